package io.wharf.worker.internals;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.LogLine;
import io.wharf.records.LogStream;
import io.wharf.serde.AvroSerializer;
import io.wharf.topics.Topics;
import io.wharf.worker.runtime.OutputListener;

/**
 * Cuts one job attempt's output into lines and streams them to {@code wharf.logs} as they come. Lines longer
 * than {@link #MAX_LINE_BYTES} are split. Once the attempt has shipped {@code maxBytes}, further lines are
 * counted, not sent, and a final SYSTEM line says how much was dropped: a capped log never ends silently.
 * Lines the producer could not deliver (brokers away past its buffer or delivery timeout) are counted too, and
 * the attempt's last line says how many were lost.
 */
public final class LogShipper implements OutputListener {
    private static final Logger log = LoggerFactory.getLogger(LogShipper.class);
    public static final int MAX_LINE_BYTES = 16 * 1024;

    private final String jobId;
    private final String function;
    private final int attempt;
    private final long maxBytes;
    private final Producer<String, byte[]> producer;
    private final AvroSerializer<LogLine> serializer;
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private long sequence;
    private long shippedBytes;
    private long droppedBytes;
    private long droppedLines;
    private boolean ended;
    private boolean stdoutWithheld;
    private final AtomicLong lost = new AtomicLong();

    public LogShipper(String jobId, String function, int attempt, long maxBytes, Producer<String, byte[]> producer,
                      AvroSerializer<LogLine> serializer) {
        this.jobId = jobId;
        this.function = function;
        this.attempt = attempt;
        this.maxBytes = maxBytes;
        this.producer = producer;
        this.serializer = serializer;
    }

    /**
     * Ships stderr only: stdout is the result, sealed to the caller's key, and would be in clear on {@code wharf.logs}.
     * A system line says so.
     */
    public synchronized LogShipper withholdStdout() {
        stdoutWithheld = true;
        system("[wharf] stdout is the result, sealed to the caller's key: it is not logged");
        return this;
    }

    @Override
    public synchronized void onOutput(boolean isStderr, byte[] chunk) {
        if (!isStderr && stdoutWithheld) {
            return;
        }
        ByteArrayOutputStream partial = isStderr ? stderr : stdout;
        LogStream stream = isStderr ? LogStream.STDERR : LogStream.STDOUT;
        int start = 0;
        for (int i = 0; i < chunk.length; i++) {
            if (chunk[i] == '\n') {
                partial.write(chunk, start, i - start);
                emit(stream, partial, 1);
                start = i + 1;
            } else if (partial.size() + (i - start) >= MAX_LINE_BYTES) {
                partial.write(chunk, start, i - start);
                emit(stream, partial, 0);
                start = i;
            }
        }
        partial.write(chunk, start, chunk.length - start);
    }

    @Override
    public synchronized void onEnd() {
        if (ended) {
            return;
        }
        ended = true;
        if (stdout.size() > 0) {
            emit(LogStream.STDOUT, stdout, 0);
        }
        if (stderr.size() > 0) {
            emit(LogStream.STDERR, stderr, 0);
        }
        if (droppedBytes > 0) {
            system("[wharf] log limit of " + maxBytes + " bytes reached: dropped " + droppedBytes + " bytes in " + droppedLines
                    + " lines of stdout/stderr (the result body and stderr tail are kept separately)");
        }
        if (lost.get() > 0) {
            log.warn("Job {} attempt {}: {} log lines could not be delivered to {}", jobId, attempt, lost.get(), Topics.LOGS);
            system("[wharf] " + lost.get() + " lines of this attempt's log were lost: the brokers could not be reached in time "
                    + "(the result body and stderr tail are kept separately)");
        }
    }

    /** Lines of this attempt the producer could not deliver, so far. */
    public long lostLines() {
        return lost.get();
    }

    /** A line from Wharf itself, never dropped. */
    public synchronized void system(String text) {
        send(LogStream.SYSTEM, text.getBytes(StandardCharsets.UTF_8));
    }

    public synchronized long droppedBytes() {
        return droppedBytes;
    }

    /** Ships or drops one line; {@code newline} is the terminator's length (1, or 0 for a cut or last line). */
    private void emit(LogStream stream, ByteArrayOutputStream partial, int newline) {
        byte[] line = partial.toByteArray();
        partial.reset();
        if (droppedBytes > 0 || shippedBytes + line.length + newline > maxBytes) { // no holes: once full, stays full
            droppedBytes += line.length + newline;
            droppedLines++;
            return;
        }
        shippedBytes += line.length + newline;
        send(stream, line);
    }

    private void send(LogStream stream, byte[] line) {
        LogLine record = LogLine.newBuilder()
                .setJobId(jobId)
                .setFunction(function)
                .setAttempt(attempt)
                .setStream(stream)
                .setSequence(sequence++)
                .setLine(ByteBuffer.wrap(line))
                .setAt(Instant.now())
                .build();
        try {
            producer.send(new ProducerRecord<>(Topics.LOGS, jobId, serializer.serialize(Topics.LOGS, record)), (metadata, error) -> {
                if (error != null) {
                    lost.incrementAndGet();
                }
            });
        } catch (KafkaException e) {
            lost.incrementAndGet(); // the buffer stayed full for max.block.ms
        }
    }
}
