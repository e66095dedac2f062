package io.wharf.worker.docker;

import java.io.Closeable;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventType;

/**
 * The containers the engine reported an OOM kill for. The engine sets {@code State.OOMKilled} only if it learns of the
 * kill before the exit; when the two race, it still emits an {@code oom} event, caught here. The event stream doubles
 * as a sign of the engine's life: when it ends, the engine is taken as lost ({@link EngineWatch}) and it is watched again.
 */
final class OomEvents implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(OomEvents.class);

    private final DockerClient docker;
    private final EngineWatch engine;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private volatile Closeable stream;
    private volatile boolean closing;

    OomEvents(DockerClient docker, EngineWatch engine) {
        this.docker = docker;
        this.engine = engine;
        watch();
    }

    /** Whether the engine reported the container OOM-killed; forgets it (each container is asked about once). */
    boolean take(String containerId) {
        return reported.remove(containerId);
    }

    private void watch() {
        if (closing) {
            return;
        }
        stream = docker.eventsCmd().withEventTypeFilter(EventType.CONTAINER).withEventFilter("oom").exec(new ResultCallback.Adapter<Event>() {
            @Override
            public void onNext(Event event) {
                if (event.getId() != null) {
                    if (reported.size() > 10_000) {
                        reported.clear(); // ids of containers that were not ours
                    }
                    reported.add(event.getId());
                }
            }

            @Override
            public void onError(Throwable error) {
                log.debug("Engine event stream ended ({}); watching again", error.toString());
                ended();
            }

            @Override
            public void onComplete() {
                ended();
            }

            private void ended() {
                if (!closing) {
                    engine.lost();
                    watchAgainSoon();
                }
            }
        });
    }

    private void watchAgainSoon() {
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(1000);
                watch();
            } catch (InterruptedException | RuntimeException e) {
                log.debug("Could not watch engine events again: {}", e.toString());
            }
        });
    }

    @Override
    public void close() {
        closing = true;
        if (stream != null) {
            try {
                stream.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
