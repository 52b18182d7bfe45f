package io.herald.config;

import java.util.List;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.*: where Herald listens, its database, and where it reads its routes, mappings, templates, catalog and rules.
 *
 * @param http              the HTTP server
 * @param db                the PostgreSQL database
 * @param routes            where the Camel YAML routes are loaded from (a Camel resource pattern)
 * @param mappingsDir       folder of the DataSonnet mappings (*.ds, read when a route starts) and the libraries they import
 *                          (*.libsonnet, read when Herald starts)
 * @param templatesDir      folder of the message templates; a changed file applies to the next render
 * @param defaultLocale     locale of the templates used when a customer's own locale has none
 * @param catalog           the notification catalog file (types, channels, timing, templates)
 * @param rules             the sense-before-send rules file, per notification type
 * @param requiredSettings  settings that must be non-blank for Herald to start (the prod profile lists them)
 */
@Validated
@ConfigurationProperties("herald")
public record HeraldSettings(@Valid @DefaultValue Http http,
                             @Valid @DefaultValue Db db,
                             @NotBlank @DefaultValue("file:routes/*.camel.yaml") String routes,
                             @NotBlank @DefaultValue("datasonnet") String mappingsDir,
                             @NotBlank @DefaultValue("templates") String templatesDir,
                             @NotBlank @DefaultValue("en") String defaultLocale,
                             @NotBlank @DefaultValue("config/catalog.yaml") String catalog,
                             @NotBlank @DefaultValue("config/rules.yaml") String rules,
                             @NotNull @DefaultValue List<String> requiredSettings) {

    public HeraldSettings {
        if (routes != null && !routes.isBlank()) {
            RouteFiles.check(routes);
        }
    }

    /**
     * @param port the port of the console, the API, the webhooks and the actuator
     */
    public record Http(@Min(0) @Max(65535) @DefaultValue("8080") int port) {
    }

    /**
     * @param url         JDBC URL of Herald's PostgreSQL database
     * @param user        its user
     * @param password    its password
     * @param sslMode     TLS to PostgreSQL, as the driver's sslmode: disable, allow, prefer, require, verify-ca or verify-full
     *                    (what a managed database asks for: TLS, its certificate checked and naming the URL's host); blank: the
     *                    URL's sslmode, else the driver's default, prefer (TLS when the server offers it, its certificate not checked)
     * @param sslRootCert with verify-ca or verify-full: the CA certificates that sign the database's (a PEM file, as RDS, Azure
     *                    and Cloud SQL publish them), mounted, never in the image; blank: the JVM's own (public CAs)
     */
    public record Db(@NotNull @DefaultValue("") @Pattern(regexp = "|jdbc:postgresql:.*", message = "must be a PostgreSQL JDBC URL such as"
                             + " jdbc:postgresql://db.example.internal:5432/herald (not postgres://…)") String url,
                     @NotNull @DefaultValue("herald") String user,
                     @NotNull @DefaultValue("") @Pattern(regexp = Secrets.NO_EDGE_SPACE, message = Secrets.EDGE_SPACE) String password,
                     DatabaseTls.SslMode sslMode,
                     @NotNull @DefaultValue("") String sslRootCert) {

        public Db {
            DatabaseTls.check(url, sslMode, sslRootCert);
        }
    }
}
