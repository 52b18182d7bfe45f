package io.herald.testsupport;

import java.nio.file.Path;

/**
 * Where a test JVM writes its working copies (routes, mappings, templates, catalogs, browser snapshots). Surefire runs
 * two test JVMs side by side (forkCount 2) and names each one's folder (herald-test.files, target/test-fork-N), so one
 * JVM's edits of its routes or catalogs never reach the other's Herald; run outside Maven, it is target/.
 */
public final class TestFiles {

    private TestFiles() {
    }

    /** {@code name} inside this JVM's folder (absolute). */
    public static Path file(String name) {
        return Path.of(System.getProperty("herald-test.files", "target"), name).toAbsolutePath();
    }
}
