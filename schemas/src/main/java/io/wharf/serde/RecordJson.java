package io.wharf.serde;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.kafka.common.utils.Utils;

/**
 * A record as plain JSON values (maps, lists, strings, numbers), for people and scripts: field names as in the
 * schema, times as ISO-8601 text, bytes as base64, enums by name, and unions without Avro's type wrappers.
 * (Avro's own {@code toString} leaves times unquoted, which is not JSON.)
 */
public final class RecordJson {
    private RecordJson() {
    }

    public static Map<String, Object> of(IndexedRecord record) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Schema.Field field : record.getSchema().getFields()) {
            out.put(field.name(), value(record.get(field.pos())));
        }
        return out;
    }

    /** Any Avro value (a record, a union's branch, a primitive) as plain JSON values, as {@link #of} gives a record's fields. */
    public static Object value(Object v) {
        return switch (v) {
            case null -> null;
            case IndexedRecord r -> of(r);
            case CharSequence s -> s.toString();
            case Instant i -> i.toString();
            case ByteBuffer b -> Base64.getEncoder().encodeToString(Utils.toArray(b));
            case Enum<?> e -> e.name();
            case org.apache.avro.generic.GenericEnumSymbol<?> e -> e.toString();
            case org.apache.avro.generic.GenericFixed f -> Base64.getEncoder().encodeToString(f.bytes());
            case Map<?, ?> m -> {
                Map<String, Object> out = new LinkedHashMap<>();
                m.forEach((k, x) -> out.put(k.toString(), value(x)));
                yield out;
            }
            case Collection<?> c -> {
                List<Object> out = new ArrayList<>();
                c.forEach(x -> out.add(value(x)));
                yield out;
            }
            default -> v; // numbers, booleans
        };
    }
}
