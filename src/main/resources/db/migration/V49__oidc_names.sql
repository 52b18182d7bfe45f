-- The names each single-sign-on subject (the token's sub) has been seen under. An access token often lacks the name
-- claim the console's login has (preferred_username), so one person could act as "olivia" in the console and as
-- "f3b1c2d4-…" on the API. Herald shows the name last seen for the subject, and four eyes treats every name of one
-- subject as one person.
CREATE TABLE oidc_name (
    subject       varchar(255) NOT NULL,
    name          varchar(255) NOT NULL,
    first_seen_at timestamptz  NOT NULL DEFAULT now(),
    last_seen_at  timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, name)
);
CREATE INDEX oidc_name_by_name ON oidc_name (lower(name));
