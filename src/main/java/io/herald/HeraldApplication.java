package io.herald;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class HeraldApplication {

    public static void main(String[] args) {
        try {
            SpringApplication.run(HeraldApplication.class, args);
        } catch (RuntimeException failed) {
            // Spring Boot has logged why ("APPLICATION FAILED TO START" or "Application run failed"). Threads started before
            // the failure (Camel's health checks) would keep the JVM running, unhealthy and logging, instead of exiting for
            // the orchestrator to see and restart.
            System.exit(1);
        }
    }
}
