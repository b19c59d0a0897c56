//! The transparency log told to people (`/registro`): what it is, its state (the latest signed
//! checkpoint and the recent ones), what it proves and what it does not, and how a Province
//! checks its own entries, by its node or by hand through the public API. Every technical
//! word is explained in Italian where it first appears.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};

use super::{failure_page, render, scroll_table};
use crate::db::log::{self, StoredCheckpoint};
use crate::db::registry::{self, ProvinceStatus};
use crate::error::HubError;
use crate::format;
use crate::state::AppState;

/// The page's path.
pub const PATH: &str = "/registro";

/// How many recent checkpoints the page lists (all of them are in the API).
const RECENT: u32 = 20;

/// Everything the page shows.
struct Loaded {
    recent: Vec<StoredCheckpoint>,
    checkpoints: u64,
    senders: Vec<ProvinceStatus>,
}

/// `GET /registro`: the transparency log explained.
pub async fn show_log(State(state): State<AppState>) -> Response {
    let loaded = state
        .db
        .call(|conn| {
            let (recent, checkpoints) = log::recent_checkpoints(conn, RECENT)?;
            let senders = registry::list_status(conn)?
                .into_iter()
                .filter(|p| p.head_seq > 0)
                .collect();
            Ok::<_, HubError>(Loaded {
                recent,
                checkpoints,
                senders,
            })
        })
        .await;
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&state, PATH, error),
    };
    let example = loaded
        .senders
        .first()
        .map_or("026".to_owned(), |p| p.code.clone());
    let main = html! {
        h1 { "Registro di trasparenza" }
        p class="lead" {
            "Il registro di trasparenza è l'elenco, in ordine di arrivo, di tutto ciò che le Province "
            "hanno inviato all'hub. Serve a una cosa: permettere a ogni Provincia di verificare, da sola, "
            "che l'hub abbia conservato i suoi invii senza toglierli, cambiarli o riordinarli."
        }
        (state_section(loaded.recent.first(), loaded.checkpoints))
        (words_section())
        (proves_section())
        (check_section(&example))
        (recent_section(&loaded.recent, loaded.checkpoints))
        (senders_section(&loaded.senders))
    };
    render(&state, "Registro di trasparenza", PATH, &main)
}

fn state_section(latest: Option<&StoredCheckpoint>, checkpoints: u64) -> Markup {
    html! {
        section class="mt-4" aria-labelledby="stato" {
            h2 id="stato" { "Lo stato del registro" }
            @match latest {
                None => { p id="nessun-checkpoint" { "Il registro è ancora vuoto: nessuna Provincia ha inviato dati e l'hub non ha firmato alcun checkpoint." } }
                Some(cp) => {
                    dl class="row" id="stato-registro" {
                        dt class="col-sm-4" { "Voci nel registro" }
                        dd class="col-sm-8" { (format::count(cp.size)) }
                        dt class="col-sm-4" { "Ultimo checkpoint firmato il" }
                        dd class="col-sm-8" { (format::unix_date_time(cp.signed_at)) }
                        dt class="col-sm-4" { "Confermato ancora valido il" }
                        dd class="col-sm-8" { (format::unix_date_time(cp.confirmed_at)) }
                        dt class="col-sm-4" { "Checkpoint firmati finora" }
                        dd class="col-sm-8" { (format::count(checkpoints)) }
                        dt class="col-sm-4" { "Radice dell'albero (impronta dell'intero registro)" }
                        dd class="col-sm-8" { code class="text-break" { (cp.root.to_hex()) } }
                    }
                    details {
                        summary { "Il testo firmato dell'ultimo checkpoint" }
                        p class="small mt-2" {
                            "È il testo che l'hub firma: la prima riga è il nome del registro, la seconda il "
                            "numero di voci, la terza la radice (in base64); seguono le firme. È anche in "
                            a href="/v1/log/checkpoint" { "/v1/log/checkpoint" } "."
                        }
                        pre class="small text-break" style="white-space: pre-wrap" { (cp.note) }
                    }
                }
            }
        }
    }
}

fn words_section() -> Markup {
    html! {
        section class="mt-5" aria-labelledby="parole" {
            h2 id="parole" { "Le parole del registro" }
            dl {
                dt { "Voce" }
                dd { "Un invio di una Provincia: un aggiornamento di un dataset, una buona pratica, un messaggio "
                     "di una rete tematica, un cambio di chiave. Ogni voce ha un numero progressivo nel registro "
                     "della sua Provincia (1, 2, 3…) e richiama l'impronta della voce precedente, così nessuna "
                     "può essere tolta o spostata senza che si veda." }
                dt { "Firma" }
                dd { "Ogni voce è firmata con la chiave del nodo della Provincia (algoritmo Ed25519). Solo chi "
                     "ha la chiave può firmare: né l'hub né altri possono creare o modificare una voce a nome "
                     "di una Provincia." }
                dt { "Impronta (hash)" }
                dd { "Un codice di 64 cifre esadecimali calcolato dal contenuto con l'algoritmo SHA-256: se "
                     "cambia anche un solo carattere del contenuto, l'impronta cambia del tutto." }
                dt { "Albero di Merkle e radice" }
                dd { "L'hub combina le impronte di tutte le voci, a coppie, in un albero (lo schema delle RFC "
                     "6962 e 9162, lo stesso dei registri pubblici dei certificati web). L'impronta in cima, "
                     "la radice, riassume l'intero registro." }
                dt { "Checkpoint" }
                dd { "Una dichiarazione firmata dall'hub: «il registro ha N voci e la sua radice è R». L'hub "
                     "ne firma uno nuovo quando arrivano voci e conferma periodicamente che l'ultimo è ancora valido." }
                dt { "Ricevuta" }
                dd { "Per ogni voce accettata l'hub restituisce alla Provincia una ricevuta firmata con la "
                     "posizione della voce nel registro: se l'hub la perdesse, la ricevuta lo dimostrerebbe." }
                dt { "Prova di inclusione" }
                dd { "Poche impronte che, combinate con quella di una voce, ridanno la radice di un checkpoint: "
                     "dimostrano che la voce è nel registro senza doverlo scaricare tutto." }
                dt { "Prova di coerenza" }
                dd { "Poche impronte che dimostrano che un checkpoint più recente contiene, invariate e nello "
                     "stesso ordine, tutte le voci di uno precedente." }
            }
        }
    }
}

fn proves_section() -> Markup {
    html! {
        section class="mt-5" aria-labelledby="cosa-dimostra" {
            h2 id="cosa-dimostra" { "Che cosa dimostra, e che cosa no" }
            ul {
                li { "Che ogni voce accettata è nel registro, al posto indicato dalla ricevuta." }
                li { "Che il registro cresce soltanto: nessuna voce è stata tolta, cambiata o riordinata "
                     "tra un checkpoint e il successivo." }
                li { "Che ogni voce viene dalla Provincia che l'ha firmata. Se la stessa chiave firmasse due voci "
                     "diverse con lo stesso numero, l'hub le conserva entrambe come prova (equivocazione) e lo "
                     "segnala agli operatori." }
                li { "Non dimostra che i dati siano giusti: di questo risponde la Provincia che li pubblica. "
                     "Il registro garantisce che sono esattamente quelli che ha inviato." }
            }
        }
    }
}

fn check_section(example: &str) -> Markup {
    let inclusion = format!("/v1/log/proof/inclusion?province={example}&seq=1");
    html! {
        section class="mt-5" aria-labelledby="come-verificare" {
            h2 id="come-verificare" { "Come una Provincia verifica le proprie voci" }
            h3 class="h5" { "Lo fa il nodo, da solo" }
            p { "Il nodo Pi.Co. della Provincia verifica tutto senza che nessuno debba intervenire:" }
            ol {
                li { "controlla la firma di ogni ricevuta con la chiave dell'hub, fissata al momento dell'adesione;" }
                li { "scarica periodicamente l'ultimo checkpoint e ne controlla la firma;" }
                li { "chiede la prova di coerenza tra il checkpoint che aveva visto e quello nuovo;" }
                li { "chiede la prova di inclusione di ciascuna delle proprie voci." }
            }
            p { "Se una verifica non torna, il nodo apre un allarme: lo mostrano la pagina «Pubblicazione» del "
                "nodo e il comando " code { "pico-node federation status" } "." }
            h3 class="h5 mt-4" { "Chiunque può rifarlo a mano" }
            p { "Gli stessi dati sono pubblici, a questi indirizzi dell'hub:" }
            ul {
                li { a href="/.well-known/pico-federation" { "la chiave pubblica dell'hub" } " e il nome del registro;" }
                li { a href="/v1/log/checkpoint" { "l'ultimo checkpoint" } " (testo firmato);" }
                li { a href="/v1/log/checkpoints" { "tutti i checkpoint" } " firmati finora (JSON);" }
                li { "la prova di inclusione di una voce, per codice della Provincia e numero della voce, ad esempio "
                     a href=(inclusion) { "la voce 1 della Provincia " (example) } ";" }
                li { "la prova di coerenza tra due checkpoint, indicando il numero di voci di ciascuno: "
                     code { "/v1/log/proof/consistency?old=…&new=…" } "." }
            }
            p { "Il formato di voci, ricevute, checkpoint e prove è descritto nella specifica del protocollo "
                "(" code { "protocol/SPEC.md" } ")." }
        }
    }
}

fn recent_section(recent: &[StoredCheckpoint], checkpoints: u64) -> Markup {
    html! {
        @if !recent.is_empty() {
            section class="mt-5" aria-labelledby="checkpoint-recenti" {
                h2 id="checkpoint-recenti" { "Gli ultimi checkpoint" }
                p { @if checkpoints as usize > recent.len() {
                        "Gli ultimi " (recent.len()) " di " (format::count(checkpoints)) "; l'elenco completo è in "
                    } @else { "Tutti i checkpoint firmati; sono anche in " }
                    a href="/v1/log/checkpoints" { "/v1/log/checkpoints" } "." }
                (scroll_table("Tabella degli ultimi checkpoint", &html! {
                    table class="table table-sm" id="tabella-checkpoint" {
                        caption { "Checkpoint firmati dall'hub, dal più recente: numero di voci, data della firma e inizio della radice" }
                        thead { tr {
                            th scope="col" class="text-end" { "Voci" }
                            th scope="col" { "Firmato il" }
                            th scope="col" { "Radice (prime 16 cifre)" }
                        } }
                        tbody { @for cp in recent { tr {
                            td class="text-end" { (format::count(cp.size)) }
                            td { (format::unix_date_time(cp.signed_at)) }
                            td { code { (&cp.root.to_hex()[..16]) "…" } }
                        } } }
                    }
                }))
            }
        }
    }
}

fn senders_section(senders: &[ProvinceStatus]) -> Markup {
    html! {
        section class="mt-5" aria-labelledby="voci-per-provincia" {
            h2 id="voci-per-provincia" { "Le voci di ciascuna Provincia" }
            @if senders.is_empty() {
                p { "Nessuna Provincia ha ancora inviato voci." }
            } @else {
                (scroll_table("Tabella delle voci per Provincia", &html! {
                    table class="table table-sm" id="tabella-voci" {
                        caption { "Province che hanno inviato voci: quante e quando l'ultima" }
                        thead { tr {
                            th scope="col" { "Provincia" }
                            th scope="col" class="text-end" { "Voci" }
                            th scope="col" { "Ultima voce ricevuta il" }
                        } }
                        tbody { @for p in senders { tr {
                            th scope="row" { (p.name) " (" (p.code) ")" }
                            td class="text-end" { (format::count(p.head_seq)) }
                            td { @if let Some(at) = &p.last_entry_at { (format::date_time(at)) } }
                        } } }
                    }
                }))
            }
        }
    }
}
