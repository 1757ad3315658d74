//! The real servers the suite runs against are what they claim to be: versions, TLS, users.

mod common;

use clickhouse_connect::{Client, Error};
use common::*;

#[test]
fn modern_server_is_clickhouse_26_9() {
    let c = modern();
    assert!(c.server_version().starts_with("26.9."), "modern server is {}", c.server_version());
    assert_eq!(c.command("SELECT version()").unwrap(), c.server_version());
}

#[test]
fn legacy_server_is_clickhouse_18_16() {
    let c = legacy();
    assert!(c.server_version().starts_with("18.16."), "legacy server is {}", c.server_version());
}

fn tls_options(var: &str) -> clickhouse_connect::ClientOptions {
    options(var)
}

#[test]
fn https_with_the_test_ca_succeeds() {
    let mut o = tls_options("CH_TLS_URL");
    o.ca_cert = Some(env("CH_TLS_CA"));
    let c = Client::new(o).expect("HTTPS with the test CA");
    assert!(c.server_version().starts_with("26.9."));
}

#[test]
fn https_without_the_test_ca_fails_verification() {
    let o = tls_options("CH_TLS_URL");
    match Client::new(o) {
        Err(Error::Transport { tls: true, .. }) => {}
        other => panic!("expected a TLS verification error, got {other:?}"),
    }
    let mut o = tls_options("CH_TLS_URL");
    o.ca_cert = Some(env("CH_TLS_OTHER_CA"));
    match Client::new(o) {
        Err(Error::Transport { tls: true, .. }) => {}
        other => panic!("expected a TLS verification error with an unrelated CA, got {other:?}"),
    }
}

#[test]
fn mutual_tls_port_requires_a_client_certificate() {
    let mut o = tls_options("CH_MTLS_URL");
    o.ca_cert = Some(env("CH_TLS_CA"));
    match Client::new(o.clone()) {
        // nginx answers "400 No required SSL certificate was sent".
        Err(Error::Http { status: 400, body }) => assert!(body.contains("SSL certificate"), "{body}"),
        other => panic!("expected the mTLS port to refuse us, got {other:?}"),
    }
    o.client_cert = Some(env("CH_TLS_CLIENT_CERT"));
    o.client_cert_key = Some(env("CH_TLS_CLIENT_KEY"));
    let c = Client::new(o).expect("mTLS with a client certificate");
    assert!(c.server_version().starts_with("26.9."));
}

/// `wrong_password_code`: 26.9 answers 516 AUTHENTICATION_FAILED, 18.16 answers 193 WRONG_PASSWORD.
fn check_users(var: &str, wrong_password_code: i32) {
    let mut o = options(var);
    o.username = env("CH_PASSWORD_USER");
    o.password = env("CH_PASSWORD");
    let c = Client::new(o.clone()).expect("password user authenticates");
    // currentUser() does not exist on 18.16; system.processes shows who runs this very query on both.
    let who = c.command("SELECT user FROM system.processes WHERE query LIKE '%whoami-marker%'").unwrap();
    assert_eq!(who, env("CH_PASSWORD_USER"));

    o.password = "wrong-password".into();
    match Client::new(o) {
        Err(e) => assert_eq!(e.server_code(), Some(wrong_password_code), "{e}"),
        Ok(_) => panic!("wrong password accepted"),
    }

    let mut o = options(var);
    o.username = env("CH_READONLY_USER");
    let c = Client::new(o.clone()).expect("readonly user connects");
    assert_eq!(c.command("SELECT 1").unwrap(), "1");
    // Changing a setting in SQL: the server's READONLY error.
    match c.command("SELECT 1 SETTINGS max_threads = 3") {
        Err(e) => assert_eq!(e.server_code(), Some(164), "expected READONLY, got {e}"),
        Ok(_) => panic!("readonly user changed a setting"),
    }
    // As a client setting: dropped with a warning, and the query still runs.
    o.settings.push(("max_threads".into(), "3".into()));
    let c = Client::new(o).expect("readonly user with a client setting connects");
    assert!(c.settings().is_empty(), "{:?}", c.settings());
    assert_eq!(c.command("SELECT 2").unwrap(), "2");
    let opts = clickhouse_connect::CallOptions::new().setting("max_threads", 3);
    assert_eq!(c.command_with("SELECT 3", &opts).unwrap(), "3");
}

#[test]
fn users_on_modern() {
    check_users("CH_MODERN_URL", 516);
}

#[test]
fn users_on_legacy() {
    check_users("CH_LEGACY_URL", 193);
}

#[test]
fn server_errors_carry_code_and_name() {
    let e = modern().command("SELECT no_such_column").unwrap_err();
    match &e {
        Error::Server { code: 47, name, .. } => assert_eq!(name, "UNKNOWN_IDENTIFIER"),
        other => panic!("{other:?}"),
    }
    match &e {
        Error::Server { version, .. } => assert_eq!(version.as_deref(), Some(modern().server_version())),
        other => panic!("{other:?}"),
    }
    // 18.16's older text form: code parsed, version filled in from the connection.
    let l = legacy();
    let e = l.command("SELECT no_such_column").unwrap_err();
    assert_eq!(e.server_code(), Some(47), "{e}");
    match &e {
        Error::Server { version, message, .. } => {
            assert!(message.contains("e.displayText()"), "{message}");
            assert_eq!(version.as_deref(), Some(l.server_version()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn https_to_a_name_the_certificate_does_not_cover_fails() {
    // ::ffff:127.0.0.1 reaches the proxy, but the certificate names only localhost and 127.0.0.1.
    let mut o = tls_options("CH_TLS_URL");
    o.ca_cert = Some(env("CH_TLS_CA"));
    o.host = "::ffff:127.0.0.1".into();
    match Client::new(o.clone()) {
        Err(Error::Transport { tls: true, message, .. }) => assert!(!message.is_empty()),
        other => panic!("expected a host name mismatch, got {other:?}"),
    }
    // verify = false accepts it (for tests against self-signed servers only).
    o.verify = false;
    assert!(Client::new(o).is_ok());
}
