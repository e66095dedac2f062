package io.wharf.embedded;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;

/**
 * Job images built on this machine, with no registry: {@code FROM scratch} plus the host's static busybox and
 * its applets, plus any files a test or demo adds. Built once per tag and engine; a rebuild is skipped when the
 * tag already exists.
 */
public final class LocalImages {
    private static final Logger log = LoggerFactory.getLogger(LocalImages.class);

    /** A shell and the usual tools; the image most tests run. */
    public static final String BUSYBOX = "wharf-local/busybox:1";
    /** The quick start's demo function: greets whoever is named on stdin. */
    public static final String DEMO = "wharf-local/hello:1";

    /** A hot function: answers each job over the hot protocol with its payload, from one warm container. */
    public static final String HOT_ECHO = "wharf-local/hot-echo:1";
    /** An ordinary web server (busybox httpd on port {@value #HTTPD_PORT}): a page and a CGI script, nothing Wharf-specific. */
    public static final String HTTPD = "wharf-local/httpd:1";
    public static final int HTTPD_PORT = 8080;

    private static final Path HOST_BUSYBOX = Path.of(System.getenv().getOrDefault("WHARF_BUSYBOX", "/bin/busybox"));

    private LocalImages() {
    }

    public static String busybox(DockerClient docker) {
        return ensure(docker, BUSYBOX, Map.of(), List.of("/bin/sh"));
    }

    public static String demo(DockerClient docker) {
        String script = """
                #!/bin/sh
                # Reads a name on stdin and greets it; the job contract's environment is shown too.
                name=$(cat)
                echo "Hello, ${name:-world}! (job $WHARF_JOB_ID, attempt $WHARF_ATTEMPT, function $WHARF_FUNCTION)"
                """;
        return ensure(docker, DEMO, Map.of("bin/hello", script.getBytes(StandardCharsets.UTF_8)), List.of("/bin/hello"));
    }

    public static String hotEcho(DockerClient docker) {
        String script = """
                #!/bin/sh
                # The Wharf hot protocol in shell: one line in per job, one line out per answer.
                #   in:  JOB_ID PAYLOAD_BASE64        out: JOB_ID EXIT_CODE STDOUT_BASE64
                exec 3<"$WHARF_HOT_IN" 4>"$WHARF_HOT_OUT"
                while read -r id payload <&3; do
                  echo "$id 0 $payload" >&4
                done
                """;
        return ensure(docker, HOT_ECHO, Map.of("bin/hot-echo", script.getBytes(StandardCharsets.UTF_8)), List.of("/bin/hot-echo"));
    }

    public static String httpd(DockerClient docker) {
        String echo = """
                #!/bin/sh
                # A CGI script as any web server runs them: the request in the environment, its body on stdin.
                echo "Content-Type: text/plain"
                echo "X-Served-By: busybox-httpd"
                echo ""
                echo "$REQUEST_METHOD ${QUERY_STRING:-no-query}"
                head -c "${CONTENT_LENGTH:-0}"
                """;
        return ensure(docker, HTTPD, Map.of("www/index.html", "<h1>Hello from an unchanged web server</h1>\n".getBytes(StandardCharsets.UTF_8),
                "www/cgi-bin/echo", echo.getBytes(StandardCharsets.UTF_8)), List.of("/bin/httpd", "-f", "-p", String.valueOf(HTTPD_PORT), "-h", "/www"));
    }

    /**
     * Builds {@code tag} unless it exists: busybox at {@code /bin}, an empty {@code /tmp}, and {@code files}
     * (path inside the image, without a leading slash, to content; all executable).
     */
    public static synchronized String ensure(DockerClient docker, String tag, Map<String, byte[]> files, List<String> cmd) {
        try {
            docker.inspectImageCmd(tag).exec();
            return tag;
        } catch (NotFoundException e) {
            // build it below
        }
        long begin = System.nanoTime();
        byte[] context = buildContext(files, cmd);
        docker.buildImageCmd(new ByteArrayInputStream(context))
                .withTags(Set.of(tag))
                .withLabels(Map.of("wharf.local", "true"))
                .withNetworkMode("none")
                .start()
                .awaitImageId();
        log.info("Built local image {} in {} ms", tag, (System.nanoTime() - begin) / 1_000_000);
        return tag;
    }

    private static byte[] buildContext(Map<String, byte[]> files, List<String> cmd) {
        byte[] busybox = readStaticBusybox();
        Map<String, byte[]> all = new LinkedHashMap<>();
        all.put("rootfs/bin/busybox", busybox);
        files.forEach((path, content) -> all.put("rootfs/" + path, content));
        StringBuilder cmdJson = new StringBuilder("[");
        for (int i = 0; i < cmd.size(); i++) {
            cmdJson.append(i == 0 ? "" : ", ").append('"').append(cmd.get(i).replace("\"", "\\\"")).append('"');
        }
        String dockerfile = "FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\nCMD " + cmdJson + "]\n";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(busybox.length + 64 * 1024);
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            addFile(tar, "Dockerfile", dockerfile.getBytes(StandardCharsets.UTF_8), 0644);
            TarArchiveEntry tmp = new TarArchiveEntry("rootfs/tmp/");
            tmp.setMode(01777);
            tar.putArchiveEntry(tmp);
            tar.closeArchiveEntry();
            for (Map.Entry<String, byte[]> file : all.entrySet()) {
                addFile(tar, file.getKey(), file.getValue(), 0755);
            }
            for (String applet : applets()) {
                if (applet.equals("busybox") || all.containsKey("rootfs/bin/" + applet)) {
                    continue;
                }
                TarArchiveEntry link = new TarArchiveEntry("rootfs/bin/" + applet, TarArchiveEntry.LF_SYMLINK);
                link.setLinkName("busybox");
                tar.putArchiveEntry(link);
                tar.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write the build context of a local image", e);
        }
        return bytes.toByteArray();
    }

    private static void addFile(TarArchiveOutputStream tar, String name, byte[] content, int mode) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(content.length);
        entry.setMode(mode);
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    private static byte[] readStaticBusybox() {
        byte[] binary;
        try {
            binary = Files.readAllBytes(HOST_BUSYBOX);
        } catch (IOException e) {
            throw new IllegalStateException("No busybox at " + HOST_BUSYBOX + " to build local job images from: install it "
                    + "(Debian: apt-get install busybox-static) or point WHARF_BUSYBOX at a static busybox binary", e);
        }
        String head = new String(binary, 0, Math.min(binary.length, 8192), StandardCharsets.ISO_8859_1);
        if (head.contains("ld-linux") || head.contains("ld-musl")) {
            throw new IllegalStateException(HOST_BUSYBOX + " is dynamically linked and cannot run in a FROM scratch image: "
                    + "install a static one (Debian: apt-get install busybox-static) or point WHARF_BUSYBOX at one");
        }
        return binary;
    }

    private static List<String> applets() {
        try {
            Process list = new ProcessBuilder(HOST_BUSYBOX.toString(), "--list").redirectErrorStream(true).start();
            String out = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            list.waitFor();
            List<String> applets = new ArrayList<>();
            for (String line : out.split("\n")) {
                if (line.matches("[a-zA-Z0-9_.\\[-]+")) {
                    applets.add(line.strip());
                }
            }
            return applets;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not list busybox applets", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while listing busybox applets", e);
        }
    }
}
