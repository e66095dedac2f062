package io.wharf.worker.runtime;

import java.util.Set;

/** The contract, held by the fake the worker's unit tests run on. */
class FakeContainerRunnerTest extends ContainerRunnerContract {
    private FakeContainerRunner fake;

    @Override
    protected ContainerRunner runner(String owner) {
        fake = new FakeContainerRunner(Set.of(image()));
        return fake;
    }

    @Override
    protected String image() {
        return "fake/busybox";
    }

    @Override
    protected boolean anyContainerLeft(String owner) {
        return fake.requests.stream().anyMatch(r -> fake.running(r.jobId()));
    }
}
