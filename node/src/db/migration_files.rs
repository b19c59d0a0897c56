//! The rule for migration file names, shared by `build.rs` (which embeds the files) and the
//! tests: `NNNN_name.sql`, numbered 1, 2, 3… with no repeat and no gap, since step `N` takes
//! the schema from `user_version = N - 1` to `N`.

/// Orders the names of a migration folder's `.sql` files by number, or says what is wrong.
/// Other files (a README) are left out.
pub fn ordered(names: &[String]) -> Result<Vec<String>, String> {
    let mut steps: Vec<(u32, &String)> = Vec::new();
    for name in names.iter().filter(|name| name.ends_with(".sql")) {
        let number = name
            .split_once('_')
            .filter(|(digits, _)| digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|(digits, _)| digits.parse::<u32>().ok())
            .ok_or_else(|| format!("migration {name}: the name must be NNNN_name.sql"))?;
        steps.push((number, name));
    }
    steps.sort();
    for (index, (number, name)) in steps.iter().enumerate() {
        let expected = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if *number != expected {
            return Err(format!(
                "migration {name}: expected number {expected:04} (numbers start at 0001 and never repeat or skip)"
            ));
        }
    }
    Ok(steps.into_iter().map(|(_, name)| name.clone()).collect())
}
