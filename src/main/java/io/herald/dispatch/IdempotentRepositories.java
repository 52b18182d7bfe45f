package io.herald.dispatch;

import javax.sql.DataSource;

import org.apache.camel.processor.idempotent.jdbc.JdbcMessageIdRepository;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

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
        // Each check and each add is a single statement, which PostgreSQL makes atomic on its own:
        // camel-sql's default wraps every call in a transaction (two more round trips per call).
        // The primary key is what keeps a key from being added twice; a second instance adding the
        // same key at the same moment is simply a no-op, not an error.
        TransactionTemplate statementByStatement = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        statementByStatement.setPropagationBehavior(TransactionDefinition.PROPAGATION_SUPPORTS);
        JdbcMessageIdRepository repository = new JdbcMessageIdRepository(dataSource, statementByStatement, "dispatch") {
            /**
             * One statement instead of camel-sql's count-then-insert: the insert skips a key already
             * there (ON CONFLICT DO NOTHING) and says by its row count whether this call added it.
             */
            @Override
            public boolean add(String key) {
                return insert(key) == 1;
            }
        };
        repository.setCreateTableIfNotExists(false);
        repository.setInsertString("INSERT INTO CAMEL_MESSAGEPROCESSED (processorName, messageId, createdAt) VALUES (?, ?, ?)"
                + " ON CONFLICT DO NOTHING");
        return repository;
    }
}
