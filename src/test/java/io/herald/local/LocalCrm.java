package io.herald.local;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * Stands in for the CRM in the local run: {@code POST /outbox/<event_type>} with a JSON payload
 * inserts a row into the local crm_outbox table, as the CRM's own transaction would.
 * Local run only; used by scripts/insert-crm-outbox-row.sh.
 */
final class LocalCrm {

    private LocalCrm() {
    }

    static HttpServer serve(Map<String, String> settings, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.createContext("/outbox/", exchange -> {
            String eventType = exchange.getRequestURI().getPath().substring("/outbox/".length());
            if (!"POST".equals(exchange.getRequestMethod()) || eventType.isBlank()) {
                answer(exchange, 405, "POST /outbox/<event_type> with the JSON payload as body\n");
                return;
            }
            String payload = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            try (Connection db = DriverManager.getConnection(settings.get("herald.db.url"), settings.get("herald.db.user"),
                    settings.get("herald.db.password"));
                 PreparedStatement insert = db.prepareStatement(
                         "INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES (?, ?, ?) RETURNING id")) {
                insert.setString(1, eventType.contains(".") ? eventType.substring(0, eventType.indexOf('.')) : eventType);
                insert.setString(2, eventType);
                insert.setString(3, payload);
                try (ResultSet id = insert.executeQuery()) {
                    id.next();
                    answer(exchange, 201, "crm_outbox row " + id.getLong(1) + " (" + eventType + ")\n");
                }
            } catch (SQLException e) {
                answer(exchange, 500, e.getMessage() + "\n");
            }
        });
        server.start();
        return server;
    }

    private static void answer(HttpExchange exchange, int status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
