#!/bin/sh
# Herald's start command, the same in the image and in the test that runs the built jar
# (ProdStartIT): the exploded layered jar in APP_HOME, configuration from the environment
# plus config/ in the working directory and an optional mounted folder.
set -e
APP_HOME="${APP_HOME:-/app}"
# The heap follows the container's memory limit and an OutOfMemoryError ends the process (the orchestrator restarts it);
# JAVA_OPTS adds to these (a later -XX flag wins), it does not replace them.
exec java -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError ${JAVA_OPTS:-} -cp "$APP_HOME" org.springframework.boot.loader.launch.JarLauncher "$@"
