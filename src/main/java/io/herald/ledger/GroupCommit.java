package io.herald.ledger;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import io.herald.kafka.InfrastructureFaults;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionSystemException;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Group commit for the ledger writes every delivery makes (the claim before the provider call, the
 * outcome after it): the sender threads of all channels hand their writes here and each waits until
 * its write is committed; whoever finds no commit in progress takes every write queued so far and
 * commits them together, one multi-row statement per kind, in one transaction. While that commit
 * runs, the next writes queue up (their threads parked) and go in the next one, which the first of
 * them commits for all. So an idle Herald writes each delivery's
 * rows at once, as before, and a busy one writes many deliveries per transaction instead of one
 * transaction per write (issue 17: at most one PostgreSQL transaction per notification).
 *
 * <p>Nothing is acknowledged before it is committed: a caller returns only once its rows are in the
 * database, so a delivery is SENDING in the ledger before its provider call starts, as with single
 * writes. A group that fails as a whole because the database cannot be reached fails every caller
 * with that fault (each retries as it would have alone); a group that fails for any other reason is
 * written again one write at a time, so one bad write fails alone and never takes others with it.
 */
public final class GroupCommit {

    /**
     * One kind of write (e.g. "claim for sending"): turns the requests of a group, in the order they were
     * handed in, into one statement and returns one result per request, in the same order. Runs inside the
     * group's transaction.
     */
    @FunctionalInterface
    public interface Kind<R, T> {
        List<T> write(List<R> requests);
    }

    private static final class Pending<R, T> {
        final Kind<R, T> kind;
        final R request;
        final Thread writer = Thread.currentThread();
        volatile boolean done;
        T result;
        RuntimeException failure;

        Pending(Kind<R, T> kind, R request) {
            this.kind = kind;
            this.request = request;
        }
    }

    /** The longest a queued writer sleeps before it looks again by itself (it is woken when its turn comes). */
    private static final long SAFETY_NET_NANOS = 50_000_000;

    private final TransactionTemplate tx;
    private final int maxPerGroup;
    private final ConcurrentLinkedQueue<Pending<?, ?>> queued = new ConcurrentLinkedQueue<>();
    private final ReentrantLock committing = new ReentrantLock();

    public GroupCommit(TransactionTemplate tx, int maxPerGroup) {
        // Always a transaction of the group's own: never the one a caller that happens to commit the group may be in.
        this.tx = new TransactionTemplate(tx.getTransactionManager());
        this.tx.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        this.maxPerGroup = maxPerGroup;
    }

    /** Writes the request with others of its group and returns its result once committed. */
    public <R, T> T write(Kind<R, T> kind, R request) {
        Pending<R, T> mine = new Pending<>(kind, request);
        queued.add(mine);
        while (!mine.done) {
            if (committing.tryLock()) {
                try {
                    while (!mine.done) {
                        commitQueued();
                    }
                } finally {
                    committing.unlock();
                }
                Pending<?, ?> next = queued.peek();
                if (next != null) {
                    LockSupport.unpark(next.writer);   // what queued meanwhile: its first writer commits it, for all of them
                }
            } else {
                // Parked until the commit that takes this write has settled it, or until the committer, done, wakes the
                // first writer still queued (this one, if it queued while that commit ran: it then commits what queued).
                // The timeout is only a safety net: with hundreds of sender threads, waking each every millisecond to look
                // cost more CPU in context switches than the writes themselves.
                LockSupport.parkNanos(this, SAFETY_NET_NANOS);
            }
        }
        if (mine.failure != null) {
            throw mine.failure;
        }
        return mine.result;
    }

    /** Takes what is queued (up to maxPerGroup) and commits it; called holding the lock. */
    private void commitQueued() {
        List<Pending<?, ?>> group = new ArrayList<>();
        Pending<?, ?> next;
        while (group.size() < maxPerGroup && (next = queued.poll()) != null) {
            group.add(next);
        }
        if (group.isEmpty()) {
            return;
        }
        try {
            commit(group);
        } catch (RuntimeException failure) {
            if (group.size() == 1 || InfrastructureFaults.isInfrastructure(failure)) {
                group.forEach(pending -> pending.failure = failure);
            } else {
                for (Pending<?, ?> pending : group) {
                    try {
                        commit(List.of(pending));
                    } catch (RuntimeException alone) {
                        pending.failure = alone;
                    }
                }
            }
        } catch (Error error) {
            group.forEach(pending -> pending.failure = new IllegalStateException("the ledger write could not be committed", error));
            throw error;
        } finally {
            // Every write taken from the queue is settled, whatever happened: no writer ever waits for a group that is gone.
            for (Pending<?, ?> pending : group) {
                pending.done = true;
                LockSupport.unpark(pending.writer);
            }
        }
    }

    /**
     * One transaction for the group. When the database goes away mid-transaction the rollback fails too, and
     * the transaction template would throw that (TransactionSystemException) instead of what the write hit:
     * the write's own exception (the lost connection) is what callers must see, to pause and try again.
     */
    private void commit(List<Pending<?, ?>> group) {
        try {
            tx.executeWithoutResult(status -> writeAll(group));
        } catch (TransactionSystemException rollbackFailed) {
            if (rollbackFailed.getApplicationException() instanceof RuntimeException failure) {
                throw failure;
            }
            throw rollbackFailed;
        }
    }

    /** Each kind's requests in one statement, kinds in the order their first write came. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void writeAll(List<Pending<?, ?>> group) {
        Map<Kind<?, ?>, List<Pending>> byKind = new LinkedHashMap<>();   // a kind is one object: equal only to itself
        for (Pending<?, ?> pending : group) {
            byKind.computeIfAbsent(pending.kind, kind -> new ArrayList<>()).add(pending);
        }
        byKind.forEach((kind, pendings) -> {
            List<Object> requests = pendings.stream().map(p -> p.request).toList();
            List<?> results = ((Kind) kind).write(requests);
            for (int i = 0; i < pendings.size(); i++) {
                pendings.get(i).result = results.get(i);
            }
        });
    }
}
