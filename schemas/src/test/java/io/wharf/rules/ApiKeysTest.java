package io.wharf.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.wharf.records.ApiKey;

class ApiKeysTest {
    @Test
    void aKeyIsRecognisedByItsSecretAloneAndStoredOnlyAsAHash() {
        ApiKeys.Issued issued = ApiKeys.issue("acme", false, "ci", Instant.EPOCH);
        ApiKey record = issued.record();
        assertThat(issued.key()).matches("wharf_[0-9a-f]{12}_[A-Za-z0-9_-]{43}").contains(record.getId());
        // The secret is base64url and may itself contain '_': it starts after the fixed-length "wharf_<id>_".
        String secret = issued.key().substring(("wharf_" + record.getId() + "_").length());
        assertThat(secret).hasSize(43);
        assertThat(record.toString()).doesNotContain(secret);
        Map<String, ApiKey> stored = Map.of(record.getId(), record);
        assertThat(ApiKeys.verify(issued.key(), stored)).contains(record);
        assertThat(ApiKeys.verify(" " + issued.key() + "\n", stored)).as("surrounding space").contains(record);
    }

    @Test
    void aWrongSecretAnUnknownOrRevokedIdOrAnyOtherTextIsNoKey() {
        ApiKeys.Issued issued = ApiKeys.issue("acme", true, "", Instant.EPOCH);
        Map<String, ApiKey> stored = Map.of(issued.record().getId(), issued.record());
        String key = issued.key();
        String wrong = key.substring(0, key.length() - 1) + (key.endsWith("A") ? "B" : "A");
        assertThat(ApiKeys.verify(wrong, stored)).isEmpty();
        assertThat(ApiKeys.verify(key, Map.of())).as("revoked").isEmpty();
        assertThat(ApiKeys.verify(ApiKeys.issue("acme", true, "", Instant.EPOCH).key(), stored)).as("another id").isEmpty();
        assertThat(ApiKeys.verify("Bearer " + key, stored)).isEmpty();
        assertThat(ApiKeys.verify("", stored)).isEmpty();
        assertThat(ApiKeys.verify(null, stored)).isEmpty();
    }
}
