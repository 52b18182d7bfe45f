package io.herald.dispatch;

import javax.sql.DataSource;

import org.apache.camel.processor.idempotent.jdbc.JdbcMessageIdRepository;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The dispatch route's idempotent consumer repository: camel-sql's JDBC repository in PostgreSQL
 * (table camel_messageprocessed, created by Flyway). A notification key is added only when its
 * dispatch completed, so a redelivered notification is skipped whole, while one interrupted
 * half-way is dispatched again and the per-delivery guard (delivery row per channel) keeps the
 * channels already settled from sending twice.
 */
@Configuration
public class IdempotentRepositories {

    @Bean
    JdbcMessageIdRepository dispatchedNotifications(DataSource dataSource) {
        JdbcMessageIdRepository repository = new JdbcMessageIdRepository(dataSource, "dispatch");
        repository.setCreateTableIfNotExists(false);
        return repository;
    }
}
