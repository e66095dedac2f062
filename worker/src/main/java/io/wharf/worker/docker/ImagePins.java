package io.wharf.worker.docker;

import java.util.List;
import java.util.concurrent.TimeUnit;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.command.PullImageResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.AuthConfig;

/**
 * Resolves an image reference to what a function should run, at deploy time: the registry digest
 * ({@code repo@sha256:...}) when the image came from a registry, else the local image id. A tag that moves
 * later does not change what a deployed function runs.
 */
public final class ImagePins {
    private ImagePins() {
    }

    /** Pulls the image if the engine lacks it, then pins it; {@code username} may be null. */
    public static String pin(DockerClient docker, String image, String username, String password) throws InterruptedException {
        if (image.contains("@sha256:")) {
            return image;
        }
        InspectImageResponse inspect;
        try {
            inspect = docker.inspectImageCmd(image).exec();
        } catch (NotFoundException e) {
            var pull = docker.pullImageCmd(image);
            if (username != null) {
                pull.withAuthConfig(new AuthConfig().withUsername(username).withPassword(password)
                        .withRegistryAddress(ImageCache.registryOf(image)));
            }
            pull.exec(new PullImageResultCallback()).awaitCompletion(10, TimeUnit.MINUTES);
            inspect = docker.inspectImageCmd(image).exec();
        }
        String repository = repositoryOf(image);
        List<String> digests = inspect.getRepoDigests() == null ? List.of() : inspect.getRepoDigests();
        return digests.stream().filter(d -> d.startsWith(repository + "@")).findFirst().orElse(inspect.getId());
    }

    /** {@code host:5000/team/app:1} → {@code host:5000/team/app}. */
    static String repositoryOf(String image) {
        int slash = image.lastIndexOf('/');
        int colon = image.lastIndexOf(':');
        return colon > slash ? image.substring(0, colon) : image;
    }
}
