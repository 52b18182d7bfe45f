package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The shipped deployments start: docker/compose.yaml and deploy/kubernetes set every setting the prod profile
 * requires (herald.required-settings in config/application-prod.yaml, checked at startup by RequiredSettings),
 * their addresses point at services that exist, and the Kubernetes probes use Herald's health groups, readiness
 * including PostgreSQL and Kafka.
 */
class ComposeAndKubernetesTest {

    private static final Path COMPOSE = Path.of("docker/compose.yaml");
    private static final Path KUBERNETES = Path.of("deploy/kubernetes");
    private static final Pattern INTERPOLATION = Pattern.compile("\\$\\{([A-Z0-9_]+)(?::?([-?])([^}]*))?}");

    @Test
    void theComposeStackSetsEverySettingProdRequires() throws IOException {
        Map<String, String> environment = composeHeraldEnvironment();
        assertThat(environment).containsEntry("SPRING_PROFILES_ACTIVE", "prod");
        List<String> missing = new ArrayList<>();
        for (String required : prodRequiredSettings()) {
            // "a|b": either will do
            if (java.util.Arrays.stream(required.split("\\|")).map(String::strip).map(RequiredSettings::environmentVariable)
                    .map(environment::get).noneMatch(value -> value != null && !withoutEnvironment(value).isBlank())) {
                missing.add(required);
            }
        }
        assertThat(missing).as("required settings docker compose up would start without (from " + COMPOSE + ")").isEmpty();
        // Its PostgreSQL has no CRM outbox table: with the CRM poller on (the default), the first start stopped at startup.
        assertThat(environment).containsEntry("HERALD_CRM_ENABLED", "false");
    }

    @Test
    void theComposeStackPointsHeraldAtItsOwnServicesAndTheSandboxAnswersEveryProvider() throws IOException {
        Map<String, Object> compose = new Yaml().load(Files.readString(COMPOSE));
        Map<String, Object> services = map(compose.get("services"));
        Map<String, String> environment = composeHeraldEnvironment();
        assertThat(services).containsKeys("postgres", "kafka", "mail", "providers", "herald");
        assertThat(host(environment.get("HERALD_DB_URL").substring("jdbc:".length()))).isEqualTo("postgres");
        assertThat(environment.get("HERALD_KAFKA_BROKERS")).startsWith("kafka:");
        assertThat(environment.get("HERALD_MAIL_HOST")).isEqualTo("mail");
        assertThat(map(map(services.get("herald")).get("depends_on"))).containsKeys("postgres", "kafka", "mail", "providers");
        // Each provider URL is answered by one of the WireMock sandbox's mappings (docker/wiremock/mappings).
        List<String> patterns = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("docker/wiremock/mappings"))) {
            for (Path file : files.toList()) {
                JsonNode request = new ObjectMapper().readTree(file.toFile()).path("request");
                patterns.add(request.path("urlPathPattern").asText());
            }
        }
        for (String variable : List.of("HERALD_SMS_URL", "HERALD_PUSH_URL", "HERALD_OPS_WEBHOOK_URL")) {
            URI url = URI.create(environment.get(variable));
            assertThat(url.getHost()).as(variable).isEqualTo("providers");
            assertThat(patterns).as(variable + " " + url.getPath() + " answered by a sandbox mapping").anyMatch(url.getPath()::matches);
        }
        // The topics' partition count is set, and allows this stack's consumers.
        assertThat(Integer.parseInt(environment.get("HERALD_TOPICS_PARTITIONS"))).isGreaterThanOrEqualTo(3);
    }

    /** A misspelt variable would stop Herald at startup (UnknownSettings): none is in the shipped deployments. */
    @Test
    void everyHeraldVariableTheDeploymentsSetIsASettingHeraldHas() throws IOException {
        UnknownSettings settings = new UnknownSettings();
        Map<String, Map<String, Object>> byKind = kubernetes();
        List<String> variables = new ArrayList<>(composeHeraldEnvironment().keySet());
        variables.addAll(map(byKind.get("ConfigMap").get("data")).keySet());
        variables.addAll(map(byKind.get("Secret").get("stringData")).keySet());
        assertThat(variables).filteredOn(variable -> variable.startsWith("HERALD_")).hasSizeGreaterThan(10)
                .allSatisfy(variable -> assertThat(settings.known(variable)).as(variable + " is a setting").isTrue());
        // Kubernetes would add HERALD_SERVICE_HOST, HERALD_PORT_8080_TCP… for the Service named herald; the pod asks for none.
        assertThat(map(map(byKind.get("Deployment").get("spec")).get("template")).get("spec"))
                .extracting(spec -> map(spec).get("enableServiceLinks")).isEqualTo(false);
        assertThat(map(byKind.get("Service").get("metadata")).get("name").toString()).startsWith("herald");
    }

    @Test
    void theKubernetesManifestsProvideEverySettingProdRequiresFromTheConfigMapAndSecret() throws IOException {
        Map<String, Map<String, Object>> byKind = kubernetes();
        Map<String, Object> container = heraldContainer(byKind.get("Deployment"));
        Map<String, Object> configMap = byKind.get("ConfigMap");
        Map<String, Object> secret = byKind.get("Secret");
        List<Map<String, Object>> envFrom = list(container.get("envFrom"));
        assertThat(envFrom).anyMatch(from -> from.containsKey("configMapRef")
                && map(from.get("configMapRef")).get("name").equals(map(configMap.get("metadata")).get("name")));
        assertThat(envFrom).anyMatch(from -> from.containsKey("secretRef")
                && map(from.get("secretRef")).get("name").equals(map(secret.get("metadata")).get("name")));

        Map<String, Object> provided = new HashMap<>(map(configMap.get("data")));
        provided.putAll(map(secret.get("stringData")));
        assertThat(provided).containsEntry("SPRING_PROFILES_ACTIVE", "prod");
        List<String> missing = new ArrayList<>();
        for (String required : prodRequiredSettings()) {
            if (java.util.Arrays.stream(required.split("\\|")).map(String::strip).map(RequiredSettings::environmentVariable)
                    .map(provided::get).noneMatch(value -> value != null && !value.toString().isBlank())) {
                missing.add(required);
            }
        }
        assertThat(missing).as("required settings the ConfigMap and Secret do not provide").isEmpty();
        // Secrets are in the Secret, not the ConfigMap.
        assertThat(map(configMap.get("data")).keySet()).noneMatch(key -> key.contains("PASSWORD") || key.contains("SECRET") || key.contains("TOKEN"));

        Map<String, Object> resources = map(container.get("resources"));
        assertThat(map(resources.get("requests"))).containsKeys("cpu", "memory");
        assertThat(map(resources.get("limits"))).containsKey("memory");
        assertThat(byKind).containsKeys("Service", "PodDisruptionBudget");
        Map<String, Object> selector = map(map(map(byKind.get("Deployment").get("spec")).get("selector")).get("matchLabels"));
        assertThat(map(map(byKind.get("PodDisruptionBudget").get("spec")).get("selector")).get("matchLabels")).isEqualTo(selector);
        assertThat(map(map(byKind.get("Service").get("spec")).get("selector"))).isEqualTo(selector);
        // A console sign-in is kept by the pod it was made on: with 3 replicas, a Service spreading one browser's requests
        // over all pods signed the operator out on every other click (SignInNotKnownHere).
        assertThat(map(byKind.get("Service").get("spec")).get("sessionAffinity")).as("the Service's session affinity").isEqualTo("ClientIP");
    }

    /**
     * The Secret applied unedited, and the ConfigMap's values that name a provider account, stop startup (RequiredSettings:
     * any Herald setting still reading change-me, BadSettingStartupTest): an SMS account SID shipped as AC000… passed it, and
     * every SMS then failed.
     */
    @Test
    void theKubernetesPlaceholdersAreOnesStartupRefuses() throws IOException {
        Map<String, Map<String, Object>> byKind = kubernetes();
        Map<String, Object> placeholders = new HashMap<>(map(byKind.get("Secret").get("stringData")));
        placeholders.remove("HERALD_ADMIN_USERNAME");   // a name, not a secret: "admin" may stay
        Map<String, Object> configMap = map(byKind.get("ConfigMap").get("data"));
        for (String account : List.of("HERALD_SMS_URL", "HERALD_SMS_FROM", "HERALD_PUSH_URL", "HERALD_SMS_WEBHOOK_BASE_URL",
                "HERALD_CONSOLE_BASE_URL", "HERALD_EMAIL_EVENTS_VERIFICATION_KEY", "HERALD_CRM_OUTBOX_TABLE")) {
            placeholders.put(account, configMap.get(account));
        }
        assertThat(placeholders).hasSizeGreaterThan(10).allSatisfy((variable, value) -> {
            assertThat(variable).startsWith("HERALD_");
            assertThat(RequiredSettings.PLACEHOLDER.matcher(String.valueOf(value)).find())
                    .as(variable + " = " + value + " is a placeholder RequiredSettings refuses (change-me)").isTrue();
        });
    }

    /** Behind the ingress Twilio signs the public https URL: without the base URL every SMS status callback and STOP was 401. */
    @Test
    void theKubernetesConfigMapGivesTheSmsWebhooksTheirPublicAddress() throws IOException {
        Map<String, Object> configMap = map(kubernetes().get("ConfigMap").get("data"));
        URI base = URI.create(String.valueOf(configMap.get("HERALD_SMS_WEBHOOK_BASE_URL")));
        assertThat(base.getScheme()).isEqualTo("https");
        assertThat(base.getHost()).isEqualTo(host(String.valueOf(configMap.get("HERALD_CONSOLE_BASE_URL"))));
    }

    @Test
    void theProbesUseHeraldsHealthGroupsAndReadinessCoversPostgresqlAndKafka() throws IOException {
        Map<String, Object> application = new Yaml().load(Files.readString(Path.of("config/application.yaml")));
        Map<String, Object> health = map(map(map(application.get("management")).get("endpoint")).get("health"));
        assertThat(map(health.get("probes")).get("enabled")).isEqualTo(true);
        Map<String, Object> groups = map(health.get("group"));
        assertThat(List.of(map(groups.get("readiness")).get("include").toString().split(",")))
                .as("readiness reflects PostgreSQL and Kafka").contains("readinessState", "db", "kafka");

        Map<String, Object> container = heraldContainer(kubernetes().get("Deployment"));
        Map<String, String> expected = Map.of("livenessProbe", "liveness", "readinessProbe", "readiness", "startupProbe", "liveness");
        expected.forEach((probe, group) -> {
            Map<String, Object> get = map(map(container.get(probe)).get("httpGet"));
            assertThat(get.get("path")).as(probe).isEqualTo("/actuator/health/" + group);
            assertThat(groups).as("management.endpoint.health.group." + group + " in config/application.yaml").containsKey(group);
            assertThat(get.get("port")).as(probe + " port").isIn("http", 8080);
        });
    }

    /**
     * Kubernetes starts a container under runAsNonRoot only when it can tell the user is not root: a numeric USER in the
     * image (a name cannot be checked) or runAsUser in the pod. Without either, every pod failed CreateContainerConfigError.
     */
    @Test
    void theDeploymentCanTellTheImagesUserIsNotRoot() throws IOException {
        Map<String, Object> pod = map(map(map(kubernetes().get("Deployment").get("spec")).get("template")).get("spec"));
        Map<String, Object> securityContext = pod.get("securityContext") == null ? Map.of() : map(pod.get("securityContext"));
        String user = Files.readAllLines(Path.of("docker/Dockerfile")).stream().filter(line -> line.startsWith("USER "))
                .reduce((first, last) -> last).orElseThrow().substring("USER ".length()).strip();
        assertThat(user).as("the image's last USER").matches("[1-9]\\d*(:\\d+)?");
        if (Boolean.TRUE.equals(securityContext.get("runAsNonRoot"))) {
            assertThat(securityContext.get("runAsUser")).as("runAsUser beside runAsNonRoot").isEqualTo(Integer.parseInt(user.split(":")[0]));
        }
    }

    /** JAVA_OPTS adds to the image's memory flags: set to "-Xss1m" it used to drop the heap limit and the exit on OutOfMemoryError. */
    @Test
    void theImagesMemoryFlagsStayWhatEverJavaOptsSays() throws IOException {
        String start = Files.readAllLines(Path.of("docker/entrypoint.sh")).stream().filter(line -> line.startsWith("exec java"))
                .findFirst().orElseThrow();
        assertThat(start).containsSubsequence("-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "${JAVA_OPTS:-}");
        assertThat(Files.readString(Path.of("docker/Dockerfile"))).doesNotContain("JAVA_OPTS");
    }

    /** herald.required-settings of the prod profile, as RequiredSettings reads it. */
    @SuppressWarnings("unchecked")
    static List<String> prodRequiredSettings() throws IOException {
        Map<String, Object> prod = new Yaml().load(Files.readString(Path.of("config/application-prod.yaml")));
        List<String> required = (List<String>) map(prod.get("herald")).get("required-settings");
        assertThat(required).as("herald.required-settings in config/application-prod.yaml").isNotEmpty();
        return required;
    }

    private static Map<String, String> composeHeraldEnvironment() throws IOException {
        Map<String, Object> compose = new Yaml().load(Files.readString(COMPOSE));
        Map<String, String> environment = new HashMap<>();
        map(map(map(compose.get("services")).get("herald")).get("environment")).forEach((k, v) -> environment.put(k, String.valueOf(v)));
        return environment;
    }

    /**
     * The value compose gives when none of the variables it interpolates is set: ${X:-default} becomes the
     * default, ${X} and ${X:?message} nothing (the latter would stop `up` with the message).
     */
    private static String withoutEnvironment(String value) {
        Matcher interpolation = INTERPOLATION.matcher(value);
        StringBuilder result = new StringBuilder();
        while (interpolation.find()) {
            String replacement = "-".equals(interpolation.group(2)) ? interpolation.group(3) : "";
            interpolation.appendReplacement(result, Matcher.quoteReplacement(replacement));
        }
        return interpolation.appendTail(result).toString();
    }

    private static Map<String, Map<String, Object>> kubernetes() throws IOException {
        Map<String, Object> kustomization = new Yaml().load(Files.readString(KUBERNETES.resolve("kustomization.yaml")));
        Map<String, Map<String, Object>> byKind = new HashMap<>();
        for (Object resource : list(kustomization.get("resources"))) {
            for (Object document : new Yaml().loadAll(Files.readString(KUBERNETES.resolve(resource.toString())))) {
                Map<String, Object> manifest = map(document);
                assertThat(byKind.put((String) manifest.get("kind"), manifest)).as("one " + manifest.get("kind")).isNull();
            }
        }
        assertThat(byKind).containsKeys("Deployment", "ConfigMap", "Secret");
        return byKind;
    }

    private static Map<String, Object> heraldContainer(Map<String, Object> deployment) {
        List<Map<String, Object>> containers = list(map(map(map(deployment.get("spec")).get("template")).get("spec")).get("containers"));
        return containers.stream().filter(c -> "herald".equals(c.get("name"))).findFirst().orElseThrow();
    }

    private static String host(String url) {
        return URI.create(url).getHost();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        assertThat(value).isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static <T> List<T> list(Object value) {
        assertThat(value).isInstanceOf(List.class);
        return (List<T>) value;
    }
}
