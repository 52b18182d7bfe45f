package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;

import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.dao.CannotAcquireLockException;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A lock PostgreSQL could not take (55P03: a lock timeout, NOWAIT) is a locking failure, which the callers that step aside for a
 * busy lock catch, also when the first error the JdbcTemplate ever translated came while the database was unreachable.
 */
class PostgresErrorCodesTest {

    private static final SQLException LOCK_NOT_AVAILABLE = new SQLException("ERROR: canceling statement due to lock timeout", "55P03");

    @Test
    void aLockNotAvailableIsALockingFailureWhateverTheDatabaseAnsweredFirst() {
        JdbcTemplate herald = (JdbcTemplate) new PostgresErrorCodes().postProcessAfterInitialization(new JdbcTemplate(unreachable()), "jdbc");
        DataAccessException translated = herald.getExceptionTranslator().translate("LOCK TABLE", "LOCK TABLE x", LOCK_NOT_AVAILABLE);
        assertThat(translated).isInstanceOf(CannotAcquireLockException.class);
        assertThat(herald.getExceptionTranslator().translate("INSERT", "INSERT", new SQLException("duplicate key", "23505")))
                .isInstanceOf(DuplicateKeyException.class);

        // What a JdbcTemplate made of it by itself: the product looked up on a database that did not answer, kept for good, and
        // the lock left untranslated (the JdbcTemplate then throws an UncategorizedSQLException no caller takes for a busy lock).
        JdbcTemplate plain = new JdbcTemplate(unreachable());
        assertThat(plain.getExceptionTranslator().translate("LOCK TABLE", "LOCK TABLE x", LOCK_NOT_AVAILABLE)).isNull();
    }

    private static PGSimpleDataSource unreachable() {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setServerNames(new String[] {"127.0.0.1"});
        dataSource.setPortNumbers(new int[] {1});
        dataSource.setConnectTimeout(1);
        return dataSource;
    }
}
