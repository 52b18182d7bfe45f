#!/bin/sh
# Herald's start command, the same in the image and in the test that runs the built jar
# (ProdStartIT): the exploded layered jar in APP_HOME, configuration from the environment
# plus config/ in the working directory and an optional mounted folder.
set -e
APP_HOME="${APP_HOME:-/app}"
exec java ${JAVA_OPTS:-} -cp "$APP_HOME" org.springframework.boot.loader.launch.JarLauncher "$@"
