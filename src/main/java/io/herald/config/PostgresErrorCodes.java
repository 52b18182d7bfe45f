package io.herald.config;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.support.SQLErrorCodeSQLExceptionTranslator;
import org.springframework.jdbc.support.SQLExceptionTranslator;
import org.springframework.stereotype.Component;

/**
 * Every JdbcTemplate of Herald's reads PostgreSQL's error codes by the database's name. Left to itself, a JdbcTemplate asks
 * the database which product it is the first time it translates an error, and keeps the answer for good: when that first
 * error came during a database outage (no connection to ask on), it fell back for the rest of the JVM's life to SQL state
 * classes alone, where "lock not available" (55P03, a lock timeout or NOWAIT) is no locking failure but an uncategorized
 * error. The code that steps aside for a busy lock (retention's partition drop, a scheduled send held at that moment) then
 * failed instead: seen as two retention runs both leaving a month they should have dropped once.
 */
@Component
public class PostgresErrorCodes implements BeanPostProcessor {

    /** PostgreSQL's codes (sql-error-codes.xml), without asking the database. */
    public static final SQLExceptionTranslator TRANSLATOR = new SQLErrorCodeSQLExceptionTranslator("PostgreSQL");

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (bean instanceof JdbcTemplate jdbc) {
            jdbc.setExceptionTranslator(TRANSLATOR);
        }
        return bean;
    }
}
