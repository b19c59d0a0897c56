//! The shared page building blocks through the pages that use them: the form kit
//! (`web::form`: a refused submit answers 422 with a summary linked to the fields, each
//! message beside its field and what was typed kept) and the list kit (`web::list`: typed
//! filters, real pagination, sortable columns, encoded links, the CSV of the filtered list).

use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::helpers::{Browser, TestApp, add_user, form_csrf, login};
use crate::sua_helpers::{Sua, request_body};

/// The `href` of the first link whose tag contains `marker`, HTML entities undone.
fn href_of(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let tag_start = html[..at].rfind("<a ").unwrap();
    let tag = &html[tag_start..];
    let href_at = tag.find("href=\"").unwrap() + "href=\"".len();
    tag[href_at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
}

/// The ids of the requests linked from a Help Desk list page, in order.
fn request_ids(html: &str) -> Vec<i64> {
    let table = &html[html.find("id=\"requests\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    table
        .split("<a href=\"/helpdesk/")
        .skip(1)
        .map(|part| part.split('"').next().unwrap().parse().unwrap())
        .collect()
}

fn helpdesk_app_users(app: &TestApp) -> (String, String) {
    let comune = add_user(
        &app.config,
        "comune.treviso",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    add_user(&app.config, "operatore", &Role::Operator(Module::Helpdesk));
    let admin = add_user(&app.config, "capo", &Role::Admin);
    (comune, admin)
}

#[tokio::test]
async fn a_refused_help_desk_submit_answers_422_with_the_summary_and_the_values_kept() {
    let app = TestApp::spawn("026").await;
    helpdesk_app_users(&app);
    let comune = login(&app, "comune.treviso").await;
    let (status, html) = comune.get_page("/helpdesk/new").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = form_csrf(&html);

    // An empty subject, a description with '&' and accents, and a file.
    let form = Form::new()
        .text("csrf", csrf.clone())
        .text("category", "administrative")
        .text("subject", "   ")
        .text("description", "La stampante & la rete: perché non vanno?")
        .part(
            "attachment",
            Part::bytes(b"nota".to_vec())
                .file_name("nota.txt")
                .mime_str("text/plain")
                .unwrap(),
        );
    let response = comune.post_multipart("/helpdesk/new", form).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    // The summary, focused, lists the mistake and links to its field.
    assert!(html.contains("Correggi i seguenti campi"), "{html}");
    assert!(
        html.contains("id=\"form-errors\" tabindex=\"-1\" autofocus"),
        "{html}"
    );
    assert!(html.contains("<a href=\"#subject\">Oggetto</a>"), "{html}");
    // The message beside the field, which says it is invalid and points at it.
    assert!(html.contains("id=\"subject-error\""), "{html}");
    assert!(
        html.contains("name=\"subject\" value=\"   \" required aria-invalid=\"true\" aria-describedby=\"subject-error\""),
        "{html}"
    );
    // What was typed is kept: the description, the chosen category; the file must be chosen again.
    assert!(
        html.contains(">La stampante &amp; la rete: perché non vanno?</textarea>"),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"administrative\" selected>"),
        "{html}"
    );
    assert!(html.contains("non è stato conservato"), "{html}");
    assert!(!html.contains("description-error"), "{html}");

    // An administrator's form: two mistakes at once, each by its field, the code kept.
    let admin = login(&app, "capo").await;
    let (_, html) = admin.get_page("/helpdesk/new").await;
    let form = Form::new()
        .text("csrf", form_csrf(&html))
        .text("comune_code", "02608")
        .text("category", "technical")
        .text("subject", "")
        .text("description", "Testo");
    let response = admin.post_multipart("/helpdesk/new", form).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("<a href=\"#comune_code\">"), "{html}");
    assert!(html.contains("<a href=\"#subject\">"), "{html}");
    assert!(
        html.contains("Il codice ISTAT del Comune ha 6 cifre"),
        "{html}"
    );
    assert!(html.contains("value=\"02608\""), "{html}");

    // A valid submit still opens the request.
    let form = Form::new()
        .text("csrf", csrf.clone())
        .text("category", "technical")
        .text("subject", "PEC")
        .text("description", "Non riceve.");
    let response = comune.post_multipart("/helpdesk/new", form).await;
    assert!(response.status().is_redirection());
    let location = response.headers()["location"].to_str().unwrap().to_owned();

    // An empty reply comes back on the request page, 422, with the message by the field.
    let response = comune
        .client
        .post(app.url(&format!("{location}/comments")))
        .form(&[("csrf", csrf.as_str()), ("body", " \n ")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("<a href=\"#body\">Risposta</a>"), "{html}");
    assert!(html.contains("id=\"body-error\""), "{html}");
    assert!(html.contains("id=\"comments\""), "the request page: {html}");
    app.stop().await;
}

#[tokio::test]
async fn the_help_desk_list_pages_past_200_and_sorts_both_ways() {
    let app = TestApp::spawn("026").await;
    let (token, _) = helpdesk_app_users(&app);
    let mut ids = Vec::new();
    for n in 0..205 {
        ids.push(app.open_request(&token, &format!("Richiesta {n:03}")).await);
    }
    let operator = login(&app, "operatore").await;

    let (status, html) = operator.get_page("/helpdesk").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Richieste (205)"), "{html}");
    assert!(html.contains("Pagina 1 di 5"), "{html}");
    assert!(
        html.contains("<nav class=\"pagination-wrapper\" aria-label=\"Pagine dell"),
        "{html}"
    );
    assert_eq!(
        request_ids(&html),
        ids.iter().rev().take(50).copied().collect::<Vec<_>>()
    );

    // 200 per page: page 2 holds the five oldest, which the old 200-row cut lost.
    let (_, first) = operator.get_page("/helpdesk?size=200").await;
    assert!(first.contains("Pagina 1 di 2"), "{first}");
    assert_eq!(request_ids(&first).len(), 200);
    let next = href_of(&first, "rel=\"next\"");
    assert_eq!(next, "/helpdesk?size=200&page=2");
    let (_, second) = operator.get_page(&next).await;
    assert!(second.contains("Pagina 2 di 2"), "{second}");
    assert!(
        second.contains("href=\"/helpdesk?size=200&amp;page=2\" aria-current=\"page\""),
        "{second}"
    );
    assert_eq!(
        request_ids(&second),
        ids[..5].iter().rev().copied().collect::<Vec<_>>()
    );

    // Sorted by subject, ascending then descending, through the header's links.
    let (_, asc) = operator
        .get_page("/helpdesk?sort=oggetto&dir=asc&size=20")
        .await;
    assert!(asc.contains("aria-sort=\"ascending\""), "{asc}");
    assert_eq!(request_ids(&asc)[..3], ids[..3]);
    let flip = href_of(&asc, "data-sort=\"oggetto\"");
    assert_eq!(flip, "/helpdesk?size=20&sort=oggetto&dir=desc");
    let (_, desc) = operator.get_page(&flip).await;
    assert!(desc.contains("aria-sort=\"descending\""), "{desc}");
    assert_eq!(request_ids(&desc)[..3], [ids[204], ids[203], ids[202]]);

    // Bad values are messages by their fields, not an error page.
    let (status, html) = operator
        .get_page("/helpdesk?page=due&status=aperta&sort=password")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Il numero di pagina è un numero intero"),
        "{html}"
    );
    assert!(html.contains("id=\"f-status-error\""), "{html}");
    assert!(
        html.contains("<a href=\"#f-sort\">Ordinamento</a>")
            || html.contains("Non si può ordinare per «password»"),
        "{html}"
    );
    assert!(
        html.contains("Richieste (205)"),
        "the list stays usable: {html}"
    );

    // The dashboard counts every request too (it read at most 200 before), and its next
    // deadlines are the oldest open requests.
    let (_, dashboard) = operator.get_page("/dashboard").await;
    let figure = |label: &str| {
        let at = dashboard
            .find(&format!("<p class=\"card-text mb-0\">{label}</p>"))
            .unwrap();
        let start = dashboard[..at]
            .rfind("<p class=\"pico-figure mb-1\">")
            .unwrap();
        let text = &dashboard[start..at];
        text[text.find('>').unwrap() + 1..text.find("</p>").unwrap()].to_owned()
    };
    assert_eq!(figure("Nuove"), "205");
    assert_eq!(figure("Aperte in totale"), "205");
    let deadlines = &dashboard[dashboard.find("id=\"helpdesk-deadlines\"").unwrap()..];
    assert!(
        deadlines.contains(&format!("href=\"/helpdesk/{}\"", ids[0])),
        "{deadlines}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_help_desk_csv_is_the_filtered_list_with_semicolons_and_a_bom() {
    let app = TestApp::spawn("026").await;
    let (token, _) = helpdesk_app_users(&app);
    app.open_request(&token, "Tecnica").await;
    for subject in ["Altra; con punto e virgola", "Altra seconda"] {
        let response = app
            .post_json(
                "/v1/helpdesk/requests",
                Some(&token),
                &json!({"category": "other", "subject": subject, "description": "d"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let operator = login(&app, "operatore").await;
    let (_, html) = operator
        .get_page("/helpdesk?category=other&sort=oggetto&dir=asc")
        .await;
    let href = href_of(&html, "Scarica CSV (separatore ;");
    assert_eq!(
        href,
        "/helpdesk/export.csv?category=other&sort=oggetto&dir=asc&sep=%3B&bom=1"
    );
    let response = operator.get(&href).await;
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "the BOM Excel needs");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "header and the two filtered rows: {text}");
    assert!(lines[0].starts_with("Numero;Codice ISTAT Comune;Comune;Categoria;Oggetto"));
    // Ordered by subject as on the page: a space sorts before ';'.
    assert!(lines[1].contains(";Altra seconda;"), "{text}");
    assert!(
        lines[2].contains(";\"Altra; con punto e virgola\";"),
        "{text}"
    );

    // With `,` and no BOM.
    let href = href_of(&html, "Scarica CSV (separatore ,");
    let bytes = operator.get(&href).await.bytes().await.unwrap();
    assert!(bytes.starts_with(b"Numero,Codice ISTAT Comune,"));
    app.stop().await;
}

#[tokio::test]
async fn a_filter_with_ampersand_spaces_and_accents_survives_the_links() {
    let sua = Sua::spawn().await;
    let mut body = request_body();
    body["object"] = json!("Caffè & latte per le mense scolastiche");
    let response = sua.submit_raw(&sua.tv, &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    sua.submit(&sua.tv).await;
    let operator = login(&sua.app, "operatore.sua").await;

    let response = operator
        .client
        .get(sua.app.url("/sua"))
        .query(&[("q", "Caffè & latte"), ("sort", "oggetto"), ("dir", "asc")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("value=\"Caffè &amp; latte\""), "{html}");
    assert!(html.contains("Procedure (1)"), "{html}");

    // The sort link carries the filter encoded; following it finds the same procedure.
    let flip = href_of(&html, "data-sort=\"oggetto\"");
    assert_eq!(
        flip,
        "/sua?q=Caff%C3%A8%20%26%20latte&sort=oggetto&dir=desc"
    );
    let (_, again) = operator.get_page(&flip).await;
    assert!(again.contains("value=\"Caffè &amp; latte\""), "{again}");
    assert!(again.contains("Procedure (1)"), "{again}");
    assert!(again.contains("aria-sort=\"descending\""), "{again}");

    // So does the CSV link: the file holds the one matching procedure.
    let csv = href_of(&again, "Scarica CSV (separatore ;");
    assert_eq!(
        csv,
        "/sua/export.csv?q=Caff%C3%A8%20%26%20latte&sort=oggetto&dir=desc&sep=%3B&bom=1"
    );
    let bytes = operator.get(&csv).await.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.contains("Caffè & latte per le mense scolastiche"),
        "{text}"
    );
    assert!(
        text.contains(";150000,00;"),
        "the amount with a decimal comma: {text}"
    );
    sua.app.stop().await;
}

#[tokio::test]
async fn a_bad_report_filter_is_a_message_beside_its_field_not_an_error_page() {
    let sua = Sua::spawn().await;
    sua.submit(&sua.tv).await;
    let operator = login(&sua.app, "operatore.sua").await;
    let (status, html) = operator
        .get_page("/sua/report?year=duemila&pnrr=forse")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Correggi i seguenti campi"), "{html}");
    assert!(html.contains("<a href=\"#f-year\">Anno</a>"), "{html}");
    assert!(html.contains("id=\"f-year-error\""), "{html}");
    assert!(html.contains("<a href=\"#f-pnrr\">PNRR</a>"), "{html}");
    assert!(
        html.contains("value=\"duemila\""),
        "the value typed is kept: {html}"
    );
    // The CSV of a bad filter is refused with the same messages, as a problem.
    let response = sua
        .app
        .get("/sua/report/export.csv?year=duemila", Some(&sua.sua))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    sua.app.stop().await;
}

/// In Chromium: a refused submit lands with the focus on the error summary (no script: the
/// summary's `autofocus`), and the refused page has no axe-core violation.
#[tokio::test]
async fn in_the_browser_a_refused_form_focuses_its_summary_and_passes_axe() {
    use fantoccini::Locator;
    let browser = Browser::start().await;
    let client = browser.client.clone();
    let app = TestApp::spawn("026").await;
    helpdesk_app_users(&app);
    let base = app.url("");
    browser.login(&base, "comune.treviso").await;
    client.goto(&format!("{base}/helpdesk/new")).await.unwrap();
    crate::helpers::type_into(&client, "description", "Senza oggetto").await;
    client
        .find(Locator::Css(
            "form[action='/helpdesk/new'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Id("subject-error"))
        .await
        .unwrap();
    let mut focused = serde_json::Value::Null;
    for _ in 0..100 {
        focused = client
            .execute(
                "return document.activeElement && document.activeElement.id;",
                vec![],
            )
            .await
            .unwrap();
        if focused == "form-errors" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(focused, "form-errors", "the summary has the focus");
    let violations = crate::helpers::axe_violations(&client).await;
    assert!(violations.is_empty(), "{violations:#?}");
    client.close().await.unwrap();
    app.stop().await;
}
