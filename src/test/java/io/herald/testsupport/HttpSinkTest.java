package io.herald.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The light provider sink the benchmark and load tests rely on: what a client of it observes, and what it records. */
class HttpSinkTest {

    private static final String SMS = "/2010-04-01/Accounts/AC1/Messages.json";
    private static final String PUSH = "/v1/projects/p/messages:send";

    private final HttpSink sink = HttpSink.start();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @AfterEach
    void close() {
        sink.close();
    }

    @Test
    void answersAfterItsLatencyWithTheIdFieldsTheChannelsReadAndRecordsTheRequest() throws Exception {
        sink.latency(Duration.ofMillis(150));
        long start = System.nanoTime();
        HttpResponse<String> answer = client.send(post(SMS, "key-1:sms", null), HttpResponse.BodyHandlers.ofString());
        long tookMs = (System.nanoTime() - start) / 1_000_000;

        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(tookMs).isGreaterThanOrEqualTo(150);
        assertThat(answer.body()).contains("\"sid\":\"SM").contains("\"name\":\"projects/sink/messages/");
        assertThat(sink.requests()).singleElement().satisfies(request -> {
            assertThat(request.path()).isEqualTo(SMS);
            assertThat(request.idempotencyKey()).isEqualTo("key-1:sms");
            assertThat(request.body()).isEqualTo("To=%2B447700900123");
            assertThat(request.status()).isEqualTo(200);
        });
    }

    @Test
    void onePathCanBeDownWhileTheOthersAnswer() throws Exception {
        sink.mode(SMS, HttpSink.Mode.UNAVAILABLE);

        assertThat(client.send(post(SMS, "key-2:sms", null), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(503);
        assertThat(client.send(post(PUSH, "key-2:push", null), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        sink.mode(SMS, HttpSink.Mode.OK);
        assertThat(client.send(post(SMS, "key-2:sms", null), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        assertThat(sink.requests(SMS)).extracting(HttpSink.Request::status).containsExactly(503, 200);
    }

    @Test
    void aHangingPathNeverAnswersAndDropsTheConnectionWhenItIsBack() throws Exception {
        sink.mode(SMS, HttpSink.Mode.HANG);

        CompletableFuture<HttpResponse<String>> call = client.sendAsync(post(SMS, "key-3:sms", null), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(10)).until(() -> sink.requests(SMS).size() == 1);
        assertThat(sink.requests(SMS)).extracting(HttpSink.Request::status).containsExactly(-1);
        // The client gives up waiting: no answer came.
        assertThatThrownBy(() -> call.get(500, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);

        sink.mode(SMS, HttpSink.Mode.OK);
        assertThatThrownBy(call::join).hasCauseInstanceOf(IOException.class);
        assertThat(client.send(post(SMS, "key-3:sms", null), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }

    @Test
    void countsTheMostRequestsInAnyWindowAndTheMostOpenAtOnce() {
        // Answers wait 3 s, so the forty calls are all open at once even on a busy machine.
        sink.latency(Duration.ofSeconds(3));
        List<CompletableFuture<HttpResponse<String>>> calls = IntStream.range(0, 40)
                .mapToObj(i -> client.sendAsync(post(PUSH, "key-" + i + ":push", null), HttpResponse.BodyHandlers.ofString())).toList();

        assertThat(calls).allSatisfy(call -> assertThat(call.join().statusCode()).isEqualTo(200));
        assertThat(sink.maxInAnyWindow(Duration.ofSeconds(3), r -> r.path().equals(PUSH))).isEqualTo(40);
        assertThat(sink.maxInAnyWindow(Duration.ofSeconds(3), r -> r.path().equals(SMS))).isZero();
        // All forty were open at once: none waited for another to be answered.
        assertThat(sink.peakInFlight()).isEqualTo(40);
    }

    private HttpRequest post(String path, String key, Duration timeout) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(sink.url(path))).header("Idempotency-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString("To=%2B447700900123"));
        if (timeout != null) {
            request.timeout(timeout);
        }
        return request.build();
    }
}
