package io.herald.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The ledger's group commit on a real PostgreSQL: what many sender threads write concurrently is all
 * committed, in far fewer transactions than writes, each caller gets its own result, and a write that
 * the database refuses fails alone while the rest of its group is committed.
 */
class GroupCommitTest {

    private static EmbeddedPostgres postgres;
    private static HikariDataSource pool;
    private static JdbcTemplate jdbc;
    private static GroupCommit grouped;

    /** The PostgreSQL transactions the groups were written in. */
    private static final java.util.Set<Long> TRANSACTIONS = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A group's writes: inserts the values, returns each one's row id (a value over 1000 is refused by the table). */
    private static final GroupCommit.Kind<Integer, Long> INSERTS = values -> {
        TRANSACTIONS.add(jdbc.queryForObject("SELECT txid_current()", Long.class));
        List<Long> ids = new ArrayList<>();
        for (Integer value : values) {
            ids.add(jdbc.queryForObject("INSERT INTO written (value) VALUES (?) RETURNING id", Long.class, value));
        }
        return ids;
    };

    @BeforeAll
    static void database() throws IOException {
        postgres = EmbeddedPostgres.builder().start();
        pool = new HikariDataSource();
        pool.setJdbcUrl(postgres.getJdbcUrl("postgres", "postgres"));
        pool.setMaximumPoolSize(4);
        jdbc = new JdbcTemplate(pool);
        jdbc.execute("CREATE TABLE written (id BIGSERIAL PRIMARY KEY, value INT NOT NULL CHECK (value <= 1000))");
        grouped = new GroupCommit(new TransactionTemplate(new DataSourceTransactionManager(pool)), 256);
    }

    @AfterAll
    static void stop() throws IOException {
        pool.close();
        postgres.close();
    }

    @Test
    void concurrentWritesAreCommittedTogetherAndEachCallerGetsItsOwnResult() throws Exception {
        int threads = 32;
        int each = 40;
        TRANSACTIONS.clear();
        ExecutorService senders = Executors.newFixedThreadPool(threads);
        ConcurrentLinkedQueue<long[]> results = new ConcurrentLinkedQueue<>();
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            done.add(senders.submit(() -> {
                for (int i = 0; i < each; i++) {
                    int value = (thread * each + i) % 1000;
                    results.add(new long[] {value, grouped.write(INSERTS, value)});
                }
            }));
        }
        for (Future<?> future : done) {
            future.get();
        }
        senders.shutdown();
        int transactions = TRANSACTIONS.size();

        assertThat(results).hasSize(threads * each);
        for (long[] result : results) {
            assertThat(jdbc.queryForObject("SELECT value FROM written WHERE id = ?", Integer.class, result[1]))
                    .as("the row id returned to the caller that wrote value %d", result[0]).isEqualTo((int) result[0]);
        }
        System.out.printf("%d writes from %d threads in %d transactions%n", threads * each, threads, transactions);
        assertThat(transactions).as("transactions for %d concurrent writes", threads * each).isLessThan(threads * each / 2);
    }

    @Test
    void aRefusedWriteFailsAloneAndTheRestOfItsGroupIsCommitted() throws Exception {
        ExecutorService senders = Executors.newFixedThreadPool(16);
        List<Future<Long>> writes = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            int value = i == 17 ? 5000 : i;   // 5000 breaks the table's check; the others fit
            writes.add(senders.submit(() -> grouped.write(INSERTS, value)));
        }
        for (int i = 0; i < writes.size(); i++) {
            Future<Long> write = writes.get(i);
            if (i == 17) {
                assertThatThrownBy(write::get).satisfies(failure -> {
                    Throwable root = failure;
                    while (root.getCause() != null) {
                        root = root.getCause();
                    }
                    assertThat(root.getMessage()).as("the database's refusal, to the caller that wrote it").contains("written_value_check");
                });
            } else {
                assertThat(jdbc.queryForObject("SELECT value FROM written WHERE id = ?", Integer.class, write.get())).isEqualTo(i);
            }
        }
        senders.shutdown();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM written WHERE value = 5000", Integer.class)).isZero();
    }
}
