use super::*;

fn parse(line: &str) -> Result<Request, String> {
    Request::parse(line).map(|(r, _)| r)
}

#[test]
fn parses_a_call() {
    assert_eq!(
        parse(r#"{"cmd":"call","window":3}"#),
        Ok(Request::Command(Command::call_next(3)))
    );
    assert_eq!(
        parse(r#"{"cmd":"status"}"#),
        Ok(Request::Query(Query::Status))
    );
}

#[test]
fn explains_what_is_wrong() {
    assert!(parse("{not json").unwrap_err().contains("not valid JSON"));
    assert!(parse("[1]").unwrap_err().contains("JSON object"));
    assert!(parse(r#"{"window":3}"#).unwrap_err().contains("no \"cmd\""));
    let e = parse(r#"{"cmd":"explode"}"#).unwrap_err();
    assert!(e.contains("unknown variant `explode`"), "{e}");
    let e = parse(r#"{"cmd":"call","window":"three"}"#).unwrap_err();
    assert!(e.contains("invalid type: string, expected u32"), "{e}");
    let e = parse(r#"{"cmd":"call","window":"王小明"}"#).unwrap_err();
    assert!(!e.contains("小明"), "{e}");
    let e = parse(r#"{"cmd":"handoff","method":"pickup","case_no":"x","title":"t","recipient":"r","phone":13912345678}"#).unwrap_err();
    assert!(
        e.contains("invalid type: integer, expected a string") && !e.contains("13912345678"),
        "{e}"
    );
    let e = parse(r#"{"cmd":"call"}"#).unwrap_err();
    assert!(e.contains("missing field `window`"), "{e}");
    let e = parse(r#"{"cmd":"reserve","service":"A","slot":"13912345678","name":"n","phone":"p"}"#)
        .unwrap_err();
    assert!(
        e.contains("is not HH:MM") && !e.contains("13912345678"),
        "{e}"
    );
}

#[test]
fn the_hall_s_own_commands_cannot_be_sent() {
    for cmd in ["void", "rollover", "tick"] {
        let e = parse(&format!(r#"{{"cmd":"{cmd}","ticket":"x","cause":"y"}}"#)).unwrap_err();
        assert!(e.contains("unknown variant"), "{cmd}: {e}");
    }
}

#[test]
fn requests_round_trip_in_the_documented_shape() {
    let lines = [
        r#"{"cmd":"issue","service":"A","green":false,"reservation":null,"kiosk":"kiosk-1"}"#,
        r#"{"cmd":"call","window":3,"ticket":"A012"}"#,
        r#"{"cmd":"finish","window":3,"case_no":"ZW2026001"}"#,
        r#"{"cmd":"reserve","service":"A","slot":"09:30","date":"2026-11-27","name":"张三","phone":"13812341234"}"#,
        r#"{"cmd":"handoff","method":"mail","case_no":"C1","title":"营业执照","recipient":"王小明","phone":"13812341234","address":"内蒙古乌审旗","carrier":"sf","tracking":"SF1234567890123","window":9}"#,
        r#"{"cmd":"handoffs","day":"2026-11-26"}"#,
        r#"{"cmd":"reservations","date":null}"#,
        r#"{"cmd":"issue","service":"A","green":false,"reservation":"482913","phone_last4":"1234","kiosk":null}"#,
        r#"{"cmd":"cancel_reservation","code":"482913","reason":"本人来电取消"}"#,
        r#"{"cmd":"sync_status"}"#,
    ];
    for line in lines {
        let request = parse(line).unwrap();
        let again = serde_json::to_value(&request).unwrap();
        let original: Value = serde_json::from_str(line).unwrap();
        assert_eq!(again, original, "{line}");
    }
}

#[test]
fn the_client_field_names_the_cli() {
    let (_, meta) = Request::parse(r#"{"cmd":"status","client":"hallq-cli"}"#).unwrap();
    let client = meta.client;
    assert_eq!(client.as_deref(), Some("hallq-cli"));
    let (_, meta) = Request::parse(r#"{"cmd":"status","client":"a b\nc"}"#).unwrap();
    let client = meta.client;
    assert_eq!(client.as_deref(), Some("abc"), "only a tame name is kept");
}

#[test]
fn the_lang_field_chooses_the_answer_s_language() {
    use crate::catalogue::Lang;
    let (_, meta) = Request::parse(r#"{"cmd":"status","lang":"en"}"#).unwrap();
    assert_eq!(meta.lang, Some(Lang::En));
    let (_, meta) = Request::parse(r#"{"cmd":"status"}"#).unwrap();
    assert_eq!(meta.lang, None, "the hall's language then");
    let e = Request::parse(r#"{"cmd":"status","lang":"fr"}"#).unwrap_err();
    assert!(e.contains("\"lang\""), "{e}");
}

#[test]
fn corrections_and_the_new_queries_are_socket_requests() {
    let lines = [
        r#"{"cmd":"undo","window":3,"reason":"pressed finish by mistake"}"#,
        r#"{"cmd":"correct_case","number":"A012","case_no":"ZW2","reason":"typo"}"#,
        r#"{"cmd":"correct_evaluation","number":"A012","to":"A013","reason":"wrong pad"}"#,
        r#"{"cmd":"force_logout","window":3,"reason":"clerk left"}"#,
        r#"{"cmd":"move_held","number":"A012","to":4,"reason":"window 3 closed"}"#,
        r#"{"cmd":"void_handoff","case_no":"C1","reason":"entered twice"}"#,
        r#"{"cmd":"ticket","number":"A012","day":null}"#,
        r#"{"cmd":"backup","path":"/var/lib/hallq/backup.db"}"#,
    ];
    for line in lines {
        let request = parse(line).unwrap();
        let back: serde_json::Value = serde_json::to_value(&request).unwrap();
        let sent: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(back, sent, "{line}");
    }
}
