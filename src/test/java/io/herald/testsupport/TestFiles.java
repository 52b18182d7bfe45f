package io.herald.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

import org.springframework.util.FileSystemUtils;

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

    /** A fresh copy of {@code folder} (and everything in it) as {@code name} inside this JVM's folder, for a test to edit. */
    public static Path copyOfTree(Path folder, String name) {
        Path copy = file(name);
        try {
            FileSystemUtils.deleteRecursively(copy);
            FileSystemUtils.copyRecursively(folder, copy);
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
