package io.wharf.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

import io.wharf.client.WharfClient;
import io.wharf.records.FunctionSpec;
import io.wharf.secrets.FunctionSecrets;
import io.wharf.secrets.SealedSecrets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code wharf secrets}: make a key, and re-seal every function's secrets under a new one. Keys come from the
 * environment or a file, never from the command line (which every local user can read).
 */
@Command(name = "secrets", description = "Keys that seal functions' registry passwords and secret environment.",
        subcommands = {SecretsCommand.Key.class, SecretsCommand.Rotate.class})
final class SecretsCommand {
    /** Where deploy, rotate and the dev cluster's worker find the keys: base64, comma-separated, the first sealing. */
    static final String KEY_ENV = "WHARF_SECRETS_KEY";
    /** Or a file holding them, one per line. */
    static final String KEY_FILE_ENV = "WHARF_SECRETS_KEY_FILE";

    private SecretsCommand() {
    }

    /** The keys in {@link #KEY_ENV} or the file {@link #KEY_FILE_ENV} names, or null when neither is set. */
    static SealedSecrets keysFromEnvironment() {
        String keys = Wharf.environment.get(KEY_ENV);
        String file = Wharf.environment.get(KEY_FILE_ENV);
        if (keys != null && !keys.isBlank() && file != null && !file.isBlank()) {
            throw new IllegalArgumentException("Set " + KEY_ENV + " or " + KEY_FILE_ENV + ", not both");
        }
        if (keys != null && !keys.isBlank()) {
            return SealedSecrets.fromBase64(KEY_ENV, keys);
        }
        return file == null || file.isBlank() ? null : SealedSecrets.fromFile(KEY_FILE_ENV, Path.of(file));
    }

    @Command(name = "key", description = "Print a new key (base64, 256 bits).")
    static final class Key implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.println(SealedSecrets.newKey());
            System.err.println("Give it to `wharf deploy` in " + KEY_ENV + " and to every worker (" + KEY_ENV + " or wharf.secrets.key.file); "
                    + "keep it out of Kafka and off command lines.");
            return 0;
        }
    }

    @Command(name = "rotate", description = "Re-seal every function's sealed values under the first key of " + KEY_ENV
            + " (the new one), opening them with any of its keys (the old ones). Give workers both keys first.")
    static final class Rotate implements Callable<Integer> {
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            SealedSecrets keys = keysFromEnvironment();
            if (keys == null) {
                throw new IllegalArgumentException("No keys: set " + KEY_ENV + "=NEW,OLD (or " + KEY_FILE_ENV + " to a file with the new "
                        + "key on its first line and the old ones after it)");
            }
            int resealed = 0;
            int current = 0;
            try (WharfClient client = connection.client()) {
                for (Map.Entry<String, FunctionSpec> function : client.functions().entrySet()) {
                    FunctionSpec fn = function.getValue();
                    if (!FunctionSecrets.hasSealed(fn)) {
                        continue;
                    }
                    FunctionSpec sealed = FunctionSecrets.sealAll(keys, fn);
                    if (sealed.equals(fn)) {
                        current++;
                    } else {
                        client.update(sealed);
                        resealed++;
                    }
                }
            }
            System.out.println("Re-sealed " + resealed + " function(s) under key " + keys.sealingKeyId() + "; " + current + " already were.");
            System.out.println("Workers need the old keys until the jobs queued before now have run; then give them " + keys.sealingKeyId()
                    + " alone.");
            return 0;
        }
    }
}
