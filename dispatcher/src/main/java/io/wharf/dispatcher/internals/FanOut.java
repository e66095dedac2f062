package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import org.apache.kafka.streams.state.KeyValueStore;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.Timings;

/**
 * Fan-out batches: an event whose payload is a JSON array runs one job per element, with ids
 * {@code <event id>#<index>}, and gets one aggregate result under its own id when every element has its final
 * result. The {@code batches} store holds, per open batch, the element count, the finished count and one
 * status byte per element (0 while running), so a repeated outcome is never counted twice.
 */
final class FanOut {
    private final KeyValueStore<String, byte[]> batches;

    FanOut(KeyValueStore<String, byte[]> batches) {
        this.batches = batches;
    }

    static String childId(String parentId, int index) {
        return parentId + "#" + index;
    }

    void start(String parentId, int size) {
        batches.put(parentId, ByteBuffer.allocate(8 + size).putInt(size).putInt(0).array());
    }

    /** Records an element's final result; returns the aggregate result when it was the last one. */
    JobResult complete(JobResult element, long now) {
        String parentId = element.getParentId();
        byte[] bytes = batches.get(parentId);
        int hash = element.getJobId().lastIndexOf('#');
        if (bytes == null || hash < 0) {
            return null;
        }
        int index;
        try {
            index = Integer.parseInt(element.getJobId().substring(hash + 1));
        } catch (NumberFormatException e) {
            return null;
        }
        ByteBuffer batch = ByteBuffer.wrap(bytes);
        int size = batch.getInt(0);
        if (index < 0 || index >= size || bytes[8 + index] != 0) {
            return null;
        }
        bytes[8 + index] = (byte) (element.getStatus().ordinal() + 1);
        int done = batch.getInt(4) + 1;
        batch.putInt(4, done);
        if (done < size) {
            batches.put(parentId, bytes);
            return null;
        }
        batches.delete(parentId);
        ArrayNode jobs = Validation.JSON.createArrayNode();
        int failed = 0;
        for (int i = 0; i < size; i++) {
            JobStatus status = JobStatus.values()[bytes[8 + i] - 1];
            failed += status == JobStatus.SUCCEEDED ? 0 : 1;
            ObjectNode job = jobs.addObject();
            job.put("jobId", childId(parentId, i));
            job.put("status", status.name());
        }
        return JobResult.newBuilder()
                .setJobId(parentId)
                .setFunction(element.getFunction())
                .setStatus(failed == 0 ? JobStatus.SUCCEEDED : JobStatus.FAILED)
                .setError(failed == 0 ? null : failed + " of " + size + " fan-out jobs did not succeed")
                .setBody(ByteBuffer.wrap(jobs.toString().getBytes(StandardCharsets.UTF_8)))
                .setTimings(Timings.newBuilder().setFinishedAt(now).build())
                .setCompletedAt(Instant.ofEpochMilli(now))
                .build();
    }
}
