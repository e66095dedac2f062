package io.wharf.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

class RoleAclsTest {
    @Test
    void docsSecurityListsEveryAclOfEveryRole() throws IOException {
        String doc = Files.readString(Path.of("..", "docs", "security.md"));
        for (RoleAcls.Role role : RoleAcls.Role.values()) {
            for (AclBinding b : RoleAcls.of(role, "User:x", Topics.DEFAULT_POOL, "wharf-dispatcher")) {
                String row = "| " + b.pattern().resourceType().name().toLowerCase(Locale.ROOT).replace('_', '-') + " | `" + b.pattern().name()
                        + "` | " + b.pattern().patternType().name().toLowerCase(Locale.ROOT) + " | "
                        + b.entry().operation().name().toLowerCase(Locale.ROOT).replace('_', '-') + " |";
                assertThat(doc).as("docs/security.md, " + role).contains(row);
            }
        }
    }

    @Test
    void onlyOperatorsWriteFunctionsAndAWorkerReadsOnlyItsOwnPoolsJobs() {
        for (RoleAcls.Role role : RoleAcls.Role.values()) {
            boolean writesFunctions = RoleAcls.of(role, "User:x", "gpu", "app").stream().anyMatch(b -> b.pattern().resourceType() == ResourceType.TOPIC
                    && b.pattern().name().equals(Topics.FUNCTIONS) && b.entry().operation() == AclOperation.WRITE);
            assertThat(writesFunctions).as(role + " writes wharf.functions").isEqualTo(role == RoleAcls.Role.OPERATOR || role == RoleAcls.Role.GATEWAY);
        }
        assertThat(RoleAcls.of(RoleAcls.Role.WORKER, "User:w", "gpu", "app")).filteredOn(b -> b.entry().operation() == AclOperation.READ
                && b.pattern().name().startsWith(Topics.JOBS_PREFIX)).extracting(b -> b.pattern().name()).containsExactly("wharf.jobs.gpu");
        assertThatThrownBy(() -> RoleAcls.of(RoleAcls.Role.WORKER, "worker", "gpu", "app")).hasMessageContaining("Type:name");
        assertThatThrownBy(() -> RoleAcls.Role.parse("admin")).hasMessageContaining("worker, dispatcher, operator, invoker or gateway");
    }
}
