package io.herald.testsupport;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A scrape of /actuator/prometheus: every sample with its name, labels and value. */
public final class Prometheus {

    private record Sample(String name, Map<String, String> labels, double value) {
    }

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final List<Sample> samples = new ArrayList<>();

    public Prometheus(String text) {
        for (String line : text.split("\n")) {
            Matcher sample = SAMPLE.matcher(line.strip());
            if (line.startsWith("#") || !sample.matches()) {
                continue;
            }
            Map<String, String> labels = new TreeMap<>();
            if (sample.group(2) != null) {
                Matcher label = LABEL.matcher(sample.group(2));
                while (label.find()) {
                    labels.put(label.group(1), label.group(2));
                }
            }
            samples.add(new Sample(sample.group(1), labels, Double.parseDouble(sample.group(3))));
        }
    }

    /** The value of the sample with exactly these labels (name, value, name, value...); 0 when it is not (yet) there. */
    public double value(String name, String... labels) {
        Map<String, String> wanted = labels(labels);
        return samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(wanted)).mapToDouble(Sample::value)
                .findFirst().orElse(0.0);
    }

    /** The sum of the samples of this name whose labels include these (name, value, name, value...); 0 when there are none. */
    public double sum(String name, String... labels) {
        Map<String, String> wanted = labels(labels);
        return samples.stream().filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(wanted.entrySet()))
                .mapToDouble(Sample::value).sum();
    }

    /** Whether any sample's name starts with this. */
    public boolean hasAny(String namePrefix) {
        return samples.stream().anyMatch(s -> s.name().startsWith(namePrefix));
    }

    /** A histogram's cumulative buckets for these labels: upper bound (le, +Inf as infinity) to count. */
    public TreeMap<Double, Double> buckets(String name, String... labels) {
        Map<String, String> wanted = labels(labels);
        TreeMap<Double, Double> buckets = new TreeMap<>();
        for (Sample s : samples) {
            Map<String, String> rest = new TreeMap<>(s.labels());
            String le = rest.remove("le");
            if (s.name().equals(name + "_bucket") && le != null && rest.equals(wanted)) {
                buckets.put("+Inf".equals(le) ? Double.POSITIVE_INFINITY : Double.parseDouble(le), s.value());
            }
        }
        return buckets;
    }

    private static Map<String, String> labels(String... labels) {
        Map<String, String> map = new TreeMap<>();
        for (int i = 0; i + 1 < labels.length; i += 2) {
            map.put(labels[i], labels[i + 1]);
        }
        return map;
    }
}
