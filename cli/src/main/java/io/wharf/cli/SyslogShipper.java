package io.wharf.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import com.cloudbees.syslog.Facility;
import com.cloudbees.syslog.MessageFormat;
import com.cloudbees.syslog.SDElement;
import com.cloudbees.syslog.SDParam;
import com.cloudbees.syslog.Severity;
import com.cloudbees.syslog.SyslogMessage;
import com.cloudbees.syslog.sender.TcpSyslogMessageSender;

import io.wharf.records.LogLine;
import io.wharf.topics.Topics;

/**
 * Ships jobs' output lines from {@code wharf.logs} to a syslog server: RFC 5424 over TCP, one message a line, the job,
 * function, attempt and stream as structured data ({@code [wharf@32473 job="..." function="..." ...]}), the job id as
 * PROCID and the stream as MSGID, so a syslog filter can pick a job or a function. At least once: a consumer group's
 * offsets are committed only after every line before them was sent, and a failed send is tried again from there.
 */
final class SyslogShipper {
    /** The structured-data id: the example enterprise number of RFC 5612, as Wharf has none of its own. */
    static final String SD_ID = "wharf@32473";
    private static final Duration RETRY = Duration.ofSeconds(2);

    private final KafkaConsumer<String, LogLine> consumer;
    private final TcpSyslogMessageSender sender;
    private final String hostname;

    SyslogShipper(KafkaConsumer<String, LogLine> consumer, String host, int port, Facility facility, String hostname) {
        this.consumer = consumer;
        this.hostname = hostname;
        this.sender = new TcpSyslogMessageSender();
        sender.setSyslogServerHostname(host);
        sender.setSyslogServerPort(port);
        sender.setMessageFormat(MessageFormat.RFC_5424);
        sender.setDefaultFacility(facility);
        sender.setDefaultAppName("wharf");
        sender.setMaxRetryCount(1);
        sender.setPostfix("\n"); // one message a line (RFC 6587 non-transparent framing); its CR-LF default leaves a CR in each
    }

    /** The syslog message of one line: its time, stream (stderr a warning, Wharf's own a notice) and where it came from. */
    SyslogMessage message(LogLine line) {
        Severity severity = switch (line.getStream()) {
            case STDOUT -> Severity.INFORMATIONAL;
            case STDERR -> Severity.WARNING;
            case SYSTEM -> Severity.NOTICE;
        };
        return new SyslogMessage().withTimestamp(line.getAt().toEpochMilli()).withHostname(hostname).withAppName("wharf")
                .withProcId(line.getJobId()).withMsgId(line.getStream().name()).withSeverity(severity).withFacility(sender.getDefaultFacility())
                .withSDElement(new SDElement(SD_ID, new SDParam("job", line.getJobId()), new SDParam("function", line.getFunction()),
                        new SDParam("attempt", String.valueOf(line.getAttempt())), new SDParam("stream", line.getStream().name().toLowerCase()),
                        new SDParam("sequence", String.valueOf(line.getSequence()))))
                .withMsg(StandardCharsets.UTF_8.decode(line.getLine().duplicate()).toString().replace('\n', ' '));
    }

    /** Ships until {@code stopped}; returns the lines sent. */
    long run(BooleanSupplier stopped) throws InterruptedException {
        consumer.subscribe(List.of(Topics.LOGS));
        long sent = 0;
        while (!stopped.getAsBoolean()) {
            ConsumerRecords<String, LogLine> records = consumer.poll(Duration.ofMillis(500));
            Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
            try {
                for (ConsumerRecord<String, LogLine> record : records) {
                    if (record.value() != null) {
                        sender.sendMessage(message(record.value()));
                        sent++;
                    }
                    done.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
                }
            } catch (IOException e) {
                System.err.println("wharf: syslog at " + sender.getSyslogServerHostname() + ":" + sender.getSyslogServerPort()
                        + " did not take a line (" + e.getMessage() + "); trying again in " + RETRY.toSeconds() + " s");
                // What was sent is committed; the rest is read again from there.
                consumer.commitSync(done);
                for (TopicPartition tp : records.partitions()) {
                    OffsetAndMetadata next = done.get(tp);
                    consumer.seek(tp, next != null ? next.offset() : records.records(tp).getFirst().offset());
                }
                Thread.sleep(RETRY.toMillis());
                continue;
            }
            if (!done.isEmpty()) {
                consumer.commitSync(done);
            }
        }
        return sent;
    }

    void close() {
        try {
            sender.close();
        } catch (IOException e) {
            // closing anyway
        }
        consumer.close(Duration.ofSeconds(5));
    }
}
