package io.wharf.cli;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

import com.cloudbees.syslog.Facility;

import io.wharf.client.WharfClient;
import io.wharf.records.LogLine;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "ship-logs", description = "Send jobs' output lines from wharf.logs to a syslog server (RFC 5424 over TCP, the job id and "
        + "function as structured data) until stopped; several instances with the same --group share the work.")
final class ShipLogsCommand implements Callable<Integer> {
    @Option(names = "--syslog", required = true, description = "Where to send them: tcp://HOST:PORT.")
    String syslog;
    @Option(names = "--group", defaultValue = "wharf-syslog", description = "Consumer group: where it goes on after a restart (default ${DEFAULT-VALUE}).")
    String group;
    @Option(names = "--from-beginning", description = "A new group starts with the oldest line kept (else with lines written from now on).")
    boolean fromBeginning;
    @Option(names = "--facility", defaultValue = "user", description = "Syslog facility, e.g. user, local0 (default ${DEFAULT-VALUE}).")
    String facility;
    @CommandLine.Mixin
    Wharf.Connection connection;

    /** Set to stop a running shipper (Ctrl-C sets it too). */
    final AtomicBoolean stop = new AtomicBoolean();

    @Override
    public Integer call() throws Exception {
        URI target = URI.create(syslog);
        if (!"tcp".equals(target.getScheme()) || target.getHost() == null || target.getPort() < 1) {
            throw new IllegalArgumentException("--syslog " + syslog + " is not tcp://HOST:PORT (only TCP is shipped: UDP would lose lines)");
        }
        Facility chosen;
        try {
            chosen = Facility.fromLabel(facility.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            chosen = null;
        }
        if (chosen == null) {
            throw new IllegalArgumentException("--facility " + facility + " is no syslog facility: use user, daemon, local0 ... local7");
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop.set(true), "wharf-ship-logs-stop"));
        try (WharfClient client = connection.client()) {
            SyslogShipper shipper = new SyslogShipper(client.groupConsumer(group, LogLine.class, fromBeginning), target.getHost(), target.getPort(),
                    chosen, hostname());
            System.err.println("wharf: shipping wharf.logs to " + syslog + " (group " + group + "); Ctrl-C stops");
            try {
                long sent = shipper.run(stop::get);
                System.err.println("wharf: shipped " + sent + " lines");
            } finally {
                shipper.close();
            }
        }
        return 0;
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "wharf";
        }
    }
}
