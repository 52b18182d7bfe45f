package io.herald.testsupport;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Cuts a first-success chain in PostgreSQL: the insert of one customer's delivery on {@code channel} is refused, as if
 * Herald stopped right after writing the previous channel's outcome (a kill -9 at that moment leaves the same rows). A
 * sequence counts the cut moves (nextval outlives the rolled-back insert). Closing it lifts the cut.
 */
public final class ChainCut implements AutoCloseable {

    private final JdbcTemplate jdbc;
    private final String name;

    private ChainCut(JdbcTemplate jdbc, String name) {
        this.jdbc = jdbc;
        this.name = name;
    }

    /** From now on, the move of {@code customerId}'s chain to {@code channel} fails. */
    public static ChainCut before(JdbcTemplate jdbc, String customerId, String channel) {
        String name = ("cut_chain_" + customerId + "_" + channel).toLowerCase().replaceAll("[^a-z0-9_]", "_");
        jdbc.execute("CREATE SEQUENCE " + name);
        jdbc.execute("CREATE FUNCTION " + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM nextval('" + name + "');"
                + " RAISE EXCEPTION 'test: the move to the next channel is cut'; END $$");
        jdbc.execute("CREATE TRIGGER " + name + " BEFORE INSERT ON delivery FOR EACH ROW WHEN (NEW.customer_id = '" + customerId
                + "' AND NEW.channel = '" + channel + "') EXECUTE FUNCTION " + name + "()");
        return new ChainCut(jdbc, name);
    }

    /** Whether a move was cut (a sender tried to queue the channel and failed). */
    public boolean happened() {
        return Boolean.TRUE.equals(jdbc.queryForObject("SELECT is_called FROM " + name, Boolean.class));
    }

    @Override
    public void close() {
        jdbc.execute("DROP TRIGGER IF EXISTS " + name + " ON delivery");
        jdbc.execute("DROP FUNCTION IF EXISTS " + name + "()");
        jdbc.execute("DROP SEQUENCE IF EXISTS " + name);
    }
}
