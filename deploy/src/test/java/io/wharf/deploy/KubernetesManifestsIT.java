package io.wharf.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * Every kustomization of deploy/k8s rendered by {@code kubectl kustomize}, each object parsed with the fabric8
 * Kubernetes model (a field the model does not know is an error: a typo Kubernetes would silently drop) and KEDA's
 * objects with a strict model of their documented fields; then the invariants an operator relies on.
 */
class KubernetesManifestsIT {
    private static final KubernetesSerialization KUBE = new KubernetesSerialization();
    private static final ObjectMapper STRICT = new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** KEDA's ScaledObject, the fields Wharf uses, as keda.sh/v1alpha1 documents them. */
    record ScaledObject(String apiVersion, String kind, io.fabric8.kubernetes.api.model.ObjectMeta metadata, Spec spec) {
        record Spec(Target scaleTargetRef, Integer pollingInterval, Integer cooldownPeriod, Integer minReplicaCount, Integer maxReplicaCount,
                List<Trigger> triggers) {
        }

        record Target(String apiVersion, String kind, String name) {
        }

        record Trigger(String type, Map<String, String> metadata, Ref authenticationRef) {
        }

        record Ref(String name) {
        }
    }

    record TriggerAuthentication(String apiVersion, String kind, io.fabric8.kubernetes.api.model.ObjectMeta metadata, AuthSpec spec) {
        record AuthSpec(List<SecretRef> secretTargetRef) {
        }

        record SecretRef(String parameter, String name, String key) {
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/dev", "overlays/prod"})
    void everyObjectParsesAndKeepsTheInvariants(String kustomization) throws Exception {
        String rendered = RoleImages.run(List.of("kubectl", "kustomize", OperatingGuideIT.ROOT.resolve("deploy/k8s/" + kustomization).toString()), false)
                .lines().filter(l -> !l.startsWith("# Warning:")).reduce("", (a, b) -> a + b + "\n");
        List<HasMetadata> objects = new ArrayList<>();
        List<ScaledObject> scaled = new ArrayList<>();
        List<TriggerAuthentication> auths = new ArrayList<>();
        for (String doc : rendered.split("(?m)^---$")) {
            if (doc.isBlank()) {
                continue;
            }
            String kind = STRICT.readTree(doc).path("kind").asText();
            switch (kind) {
                case "ScaledObject" -> scaled.add(STRICT.readValue(doc, ScaledObject.class));
                case "TriggerAuthentication" -> auths.add(STRICT.readValue(doc, TriggerAuthentication.class));
                default -> {
                    Object parsed = KUBE.unmarshal(doc);
                    assertThat(parsed).as(kind + " is a type of the Kubernetes model").isInstanceOf(HasMetadata.class)
                            .isNotInstanceOf(io.fabric8.kubernetes.api.model.GenericKubernetesResource.class);
                    assertThat(unknownFields(parsed, kind)).as("fields the model does not know").isEmpty();
                    objects.add((HasMetadata) parsed);
                }
            }
        }
        List<Deployment> deployments = of(objects, Deployment.class);
        Job topics = of(objects, Job.class).stream().filter(j -> j.getMetadata().getName().equals("wharf-topics")).findFirst().orElseThrow();
        assertThat(deployments).extracting(d -> d.getMetadata().getName())
                .containsExactlyInAnyOrder("wharf-dispatcher", "wharf-gateway", "wharf-sources", "wharf-worker");
        assertThat(of(objects, ServiceAccount.class)).extracting(a -> a.getMetadata().getName()).contains("wharf");
        assertThat(objects).extracting(HasMetadata::getKind).contains("Secret", "ConfigMap", "Role", "RoleBinding", "Service");

        for (Deployment d : deployments) {
            String name = d.getMetadata().getName();
            PodSpec pod = d.getSpec().getTemplate().getSpec();
            assertThat(pod.getServiceAccountName()).as(name).isEqualTo("wharf");
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).as(name + " runs as non-root").isTrue();
            assertThat(pod.getHostNetwork()).as(name).isNotEqualTo(Boolean.TRUE);
            assertThat(pod.getTopologySpreadConstraints()).as(name + " spreads").isNotEmpty();
            for (Container c : pod.getContainers()) {
                assertProbe(name, c, c.getLivenessProbe(), "/healthz");
                assertProbe(name, c, c.getReadinessProbe(), "/readyz");
                assertThat(c.getStartupProbe()).as(name + " startup probe").isNotNull();
            }
            assertThat(of(objects, PodDisruptionBudget.class)).as(name + " has a disruption budget").anyMatch(pdb ->
                    d.getSpec().getTemplate().getMetadata().getLabels().entrySet().containsAll(pdb.getSpec().getSelector().getMatchLabels().entrySet()));
        }
        Stream.concat(deployments.stream().map(d -> d.getSpec().getTemplate().getSpec()), Stream.of(topics.getSpec().getTemplate().getSpec()))
                .flatMap(p -> Stream.concat(p.getContainers().stream(), Optional.ofNullable(p.getInitContainers()).stream().flatMap(List::stream)))
                .forEach(c -> {
                    assertThat(c.getResources().getLimits()).as(c.getName() + " limits").containsKeys("cpu", "memory");
                    assertThat(c.getResources().getRequests()).as(c.getName() + " requests").containsKeys("cpu", "memory");
                });

        // KEDA: one ScaledObject per pool, on the pool's group and topic, never above its partitions.
        List<String> topicArgs = topics.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs();
        int partitions = Integer.parseInt(topicArgs.get(topicArgs.indexOf("--partitions") + 1));
        String bootstrap = of(objects, ConfigMap.class).stream().filter(m -> m.getMetadata().getName().equals("wharf-config")).findFirst().orElseThrow()
                .getData().get("WHARF_BOOTSTRAP_SERVERS");
        assertThat(scaled).as("a ScaledObject for the workers").isNotEmpty();
        for (ScaledObject so : scaled) {
            Deployment target = deployments.stream().filter(d -> d.getMetadata().getName().equals(so.spec().scaleTargetRef().name())).findFirst()
                    .orElseThrow(() -> new AssertionError(so.metadata().getName() + " scales no Deployment of these manifests"));
            String pool = env(target, "WHARF_WORKER_POOL").orElse("default");
            assertThat(topicArgs.get(topicArgs.indexOf("--pool") + 1)).as("the topics job makes the pool's topic").isEqualTo(pool);
            assertThat(so.spec().minReplicaCount()).isGreaterThanOrEqualTo(1);
            assertThat(so.spec().maxReplicaCount()).as("at most one worker per partition").isBetween(so.spec().minReplicaCount(), partitions);
            assertThat(so.spec().triggers()).singleElement().satisfies(t -> {
                assertThat(t.type()).isEqualTo("kafka");
                assertThat(t.metadata()).containsEntry("consumerGroup", "wharf-workers-" + pool).containsEntry("topic", "wharf.jobs." + pool)
                        .containsEntry("bootstrapServers", bootstrap).containsKey("lagThreshold");
                if (t.authenticationRef() != null) {
                    assertThat(auths).extracting(a -> a.metadata().getName()).contains(t.authenticationRef().name());
                }
            });
        }
    }

    @org.junit.jupiter.api.Test
    void aMisspelledFieldIsCaught() throws Exception {
        Object parsed = KUBE.unmarshal("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n"
                + "  template: {spec: {containers: [{name: c, image: i, livenesProbe: {}}]}}\n");
        assertThat(unknownFields(parsed, "Deployment")).containsExactlyInAnyOrder("Deployment.Spec: [replica]",
                "Deployment.Spec.Template.Spec.Containers[0]: [livenesProbe]");
    }

    private static void assertProbe(String deployment, Container c, Probe probe, String path) {
        assertThat(probe).as(deployment + " " + path + " probe").isNotNull();
        assertThat(probe.getHttpGet().getPath()).as(deployment).isEqualTo(path);
        String port = probe.getHttpGet().getPort().getStrVal();
        assertThat(c.getPorts()).as(deployment + " declares the probe's port").anyMatch(p -> p.getName().equals(port));
    }

    private static Optional<String> env(Deployment d, String name) {
        return d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream().filter(e -> e.getName().equals(name))
                .map(io.fabric8.kubernetes.api.model.EnvVar::getValue).findFirst();
    }

    private static <T> List<T> of(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** Paths of fields the model put aside as unknown (its additionalProperties), anywhere in {@code model}. */
    static List<String> unknownFields(Object model, String path) throws Exception {
        List<String> unknown = new ArrayList<>();
        if (model == null) {
            return unknown;
        }
        if (model instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                unknown.addAll(unknownFields(item, path + "[" + i++ + "]"));
            }
            return unknown;
        }
        if (model instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                unknown.addAll(unknownFields(e.getValue(), path + "." + e.getKey()));
            }
            return unknown;
        }
        if (!model.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return unknown;
        }
        for (Method getter : model.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || !getter.getName().startsWith("get") || getter.getName().equals("getClass")) {
                continue;
            }
            Object value = getter.invoke(model);
            if (getter.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    unknown.add(path + ": " + extra.keySet());
                }
            } else if (value != null && (value instanceof Collection<?> || value instanceof Map<?, ?>
                    || value.getClass().getName().startsWith("io.fabric8.kubernetes.api.model"))) {
                unknown.addAll(unknownFields(value, path + "." + getter.getName().substring(3)));
            }
        }
        return unknown;
    }
}
