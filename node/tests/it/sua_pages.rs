//! The SUA pages through a browser-like client (session cookie, CSRF token in forms): forms
//! that come back with a message next to each field and the input kept, the actions each
//! user sees, convenzioni, lists and dashboards.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::helpers::{form_csrf, login};
use crate::sua_helpers::{ALTIVOLE, Sua};

fn request_form(csrf: &str, fields: &[(&'static str, &'static str)]) -> Form {
    let mut form = Form::new().text("csrf", csrf.to_owned());
    for (name, value) in fields {
        form = form.text(*name, *value);
    }
    form
}

const GOOD: &[(&str, &str)] = &[
    ("object", "Manutenzione delle aree verdi"),
    ("description", "Sfalcio e potature."),
    ("contract_type", "services"),
    ("cpv_main", "77310000-6"),
    ("cpv_other", ""),
    ("estimated_amount", "150.000,00"),
    ("procedure_code", "1"),
    ("award_criterion", "lowest_price"),
    ("cup", ""),
    ("funding_source", "Bilancio comunale"),
    ("rup_name", "Maria Rossi"),
    ("rup_email", "maria.rossi@comune.treviso.it"),
    ("desired_by", ""),
];

#[tokio::test]
async fn the_request_form_shows_each_message_by_its_field_and_keeps_the_input() {
    let sua = Sua::spawn().await;
    let comune = login(&sua.app, "comune.treviso").await;
    let (status, html) = comune.get_page("/sua/richieste/nuova").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Convenzioni in vigore"),
        "the Comune sees its convenzione"
    );
    assert!(
        !html.contains("name=\"comune_code\""),
        "a Comune user does not choose the Comune"
    );

    let mut bad: Vec<(&str, &str)> = GOOD.to_vec();
    for (name, value) in [
        ("cpv_main", "72322000-7"),
        ("estimated_amount", "centomila"),
        ("rup_email", "maria.rossi"),
        ("cup", "J51B2100012000"),
    ] {
        bad.iter_mut().find(|(n, _)| *n == name).unwrap().1 = value;
    }
    let response = comune
        .post_multipart("/sua/richieste/nuova", request_form(&comune.csrf, &bad))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"form-errors\""));
    for field in ["cpv_main", "estimated_amount", "rup_email", "cup"] {
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "{field} has its message"
        );
        assert!(
            html.contains(&format!("aria-describedby=\"{field}-error\"")),
            "{field} points to it"
        );
    }
    assert!(html.contains("72322000-8"), "the right CPV is suggested");
    // What the user typed is still there, the wrong values included.
    for value in [
        "value=\"72322000-7\"",
        "value=\"centomila\"",
        "value=\"Manutenzione delle aree verdi\"",
        "Sfalcio e potature.",
    ] {
        assert!(html.contains(value), "{value} kept");
    }
    assert!(
        html.contains("<option value=\"services\" selected>"),
        "selects keep their choice"
    );

    // A form without the session's CSRF token is refused.
    let response = comune
        .post_multipart("/sua/richieste/nuova", request_form("forged", GOOD))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The good form, with an attachment, lands on the request's page.
    let form = request_form(&comune.csrf, GOOD).part(
        "attachments",
        Part::bytes(b"%PDF-1.7 progetto".to_vec())
            .file_name("progetto.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let response = comune.post_multipart("/sua/richieste/nuova", form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/sua/procedure/"));
    let (status, html) = comune.get_page(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Richiesta inviata"));
    assert!(html.contains("150.000,00\u{a0}€"));
    assert!(html.contains("progetto.pdf"));
    assert!(
        html.contains("id=\"move-withdrawn\""),
        "the Comune may withdraw"
    );
    assert!(!html.contains("id=\"move-received\""), "but not accept");
    assert!(html.contains("id=\"edit-request\""));
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    let (_, detail) = sua
        .get(&format!("/v1/sua/procedures/{id}"), Some(&sua.tv))
        .await;
    assert_eq!(detail["procedure"]["source"], "web");

    // Another Comune gets a "not found" page; an anonymous visitor the login.
    let other = login(&sua.app, "comune.altivole").await;
    let (status, html) = other.get_page(&location).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("<html"));
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = anonymous.get(sua.app.url("/sua")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
}

#[tokio::test]
async fn the_operator_returns_a_request_and_the_comune_corrects_it_through_the_pages() {
    let sua = Sua::spawn().await;
    let id = sua.submit(&sua.tv).await;
    let path = format!("/sua/procedure/{id}");
    let operator = login(&sua.app, "operatore.sua").await;
    let (_, html) = operator.get_page(&path).await;
    assert!(html.contains("id=\"move-received\""));
    assert!(html.contains("id=\"move-returned\""));
    assert!(!html.contains("id=\"move-withdrawn\""));

    // A return without a reason comes back on the page, by its form.
    let (status, _, html) = operator
        .submit(
            &format!("{path}/stato"),
            &[("to", "returned"), ("reason", " ")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"action-error\""));
    assert!(html.contains("id=\"move-returned-reason-error\""));
    assert!(html.contains("Indicate il motivo della restituzione"));
    let (status, location, _) = operator
        .submit(
            &format!("{path}/stato"),
            &[
                ("to", "returned"),
                ("reason", "Allegate il progetto esecutivo."),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(path.as_str()));

    let comune = login(&sua.app, "comune.treviso").await;
    let (_, html) = comune.get_page(&path).await;
    assert!(html.contains("id=\"return-reason\""));
    assert!(html.contains("Allegate il progetto esecutivo."));
    assert!(html.contains("id=\"move-submitted\""));
    // The edit form starts from the stored request and saves corrections.
    let (status, html) = comune.get_page(&format!("{path}/modifica")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"150.000,00\""));
    let mut fields: Vec<(&str, &str)> = GOOD.to_vec();
    fields
        .iter_mut()
        .find(|(n, _)| *n == "estimated_amount")
        .unwrap()
        .1 = "175000";
    let (status, location, _) = comune.submit(&format!("{path}/modifica"), &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(path.as_str()));
    fields
        .iter_mut()
        .find(|(n, _)| *n == "estimated_amount")
        .unwrap()
        .1 = "-1";
    let (status, _, html) = comune.submit(&format!("{path}/modifica"), &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"estimated_amount-error\""));
    assert!(html.contains("value=\"-1\""));
    let (status, _, _) = comune
        .submit(&format!("{path}/stato"), &[("to", "submitted")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = comune.get_page(&path).await;
    assert!(html.contains("175.000,00\u{a0}€"));
    assert!(!html.contains("id=\"return-reason\""));
    // The timeline tells the story.
    let timeline = html
        .split("id=\"timeline\"")
        .nth(1)
        .unwrap()
        .split("</ol>")
        .next()
        .unwrap();
    assert_eq!(timeline.matches("<li").count(), 3);
    assert!(timeline.contains("Allegate il progetto esecutivo."));

    // A Comune posting an operator's move is refused with a page.
    let (status, _, html) = comune
        .submit(&format!("{path}/stato"), &[("to", "received")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("<html"));
}

#[tokio::test]
async fn convenzioni_lists_and_dashboards() {
    let sua = Sua::spawn().await;
    let operator = login(&sua.app, "operatore.sua").await;
    let (status, html) = operator.get_page("/sua/convenzioni").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"convention-form\""));
    assert_eq!(html.matches("In vigore<").count(), 2);
    let (status, _, html) = operator
        .submit(
            "/sua/convenzioni",
            &[
                ("comune_code", "026002"),
                ("scope", "works"),
                ("valid_from", "2026-13-01"),
                ("valid_until", ""),
                ("document_ref", ""),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"valid_from-error\""));
    assert!(html.contains("id=\"document_ref-error\""));
    assert!(html.contains("value=\"2026-13-01\""));
    let (status, location, _) = operator
        .submit(
            "/sua/convenzioni",
            &[
                ("comune_code", "026002"),
                ("scope", "works"),
                ("valid_from", "2025-01-01"),
                ("valid_until", ""),
                ("document_ref", "Delibera C.C. n. 3 del 10/01/2025"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/sua/convenzioni"));
    let (_, html) = operator.get_page("/sua/convenzioni").await;
    assert!(html.contains("Delibera C.C. n. 3 del 10/01/2025"));

    // A Comune sees its own convenzioni and no form.
    let comune = login(&sua.app, "comune.altivole").await;
    let (_, html) = comune.get_page("/sua/convenzioni").await;
    assert!(html.contains(&format!("({ALTIVOLE})")));
    assert!(!html.contains("026086"));
    assert!(!html.contains("id=\"convention-form\""));
    let (status, _, _) = comune
        .submit(
            "/sua/convenzioni",
            &[
                ("comune_code", ALTIVOLE),
                ("scope", "all"),
                ("valid_from", "2025-01-01"),
                ("document_ref", "x"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Lists: the operator's desk and the Comune's view, with filters.
    sua.submit(&sua.tv).await;
    let altivole = sua.submit(&sua.alt).await;
    let (_, html) = operator.get_page("/sua?state=submitted").await;
    assert_eq!(html.matches("/sua/procedure/").count(), 2);
    let (_, html) = operator.get_page(&format!("/sua?comune={ALTIVOLE}")).await;
    assert_eq!(html.matches("/sua/procedure/").count(), 1);
    assert!(html.contains(&format!("/sua/procedure/{altivole}")));
    let (_, html) = comune.get_page("/sua").await;
    assert_eq!(html.matches("/sua/procedure/").count(), 1);
    assert!(!html.contains("Nuova iniziativa aggregata"));
    let (_, html) = operator.get_page("/sua?q=nessuna-corrispondenza").await;
    assert!(html.contains("id=\"no-procedures\""));

    // Dashboards and the top navigation lead to the SUA, marked as the current section on
    // its pages.
    let nav_link = r#"<a class="nav-link" href="/sua"><span>SUA</span></a>"#;
    let (_, html) = operator.get_page("/dashboard").await;
    assert!(html.contains("Operatore della Stazione Unica Appaltante"));
    assert!(html.contains("href=\"/sua?state=submitted\""));
    assert!(html.contains(nav_link), "{html}");
    let (_, html) = comune.get_page("/dashboard").await;
    assert!(html.contains("href=\"/sua/richieste/nuova\""));
    assert!(html.contains(nav_link));
    let (_, html) = comune.get_page("/sua/report").await;
    assert!(
        html.contains(
            r#"<a class="nav-link active" href="/sua" aria-current="page"><span>SUA</span></a>"#
        ),
        "{html}"
    );

    // The initiative form is the SUA's.
    let (status, _) = comune.get_page("/sua/iniziative/nuova").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, html) = operator.get_page("/sua/iniziative/nuova").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"participants\""));
    let _ = form_csrf(&html);
}
