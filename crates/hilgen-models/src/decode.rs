//! Constrained decoding: Viterbi over per-word log-probabilities with IOB2 transitions that the
//! scheme forbids (`I-X` at the start, or after anything but `B-X`/`I-X`) set to minus infinity.

/// Whether tag `cur` may follow `prev` (`None`: sentence start) in IOB2.
pub fn allowed_iob2(prev: Option<&str>, cur: &str) -> bool {
    match cur.strip_prefix("I-") {
        None => true,
        Some(ty) => prev.is_some_and(|p| p.strip_prefix("B-") == Some(ty) || p.strip_prefix("I-") == Some(ty)),
    }
}

/// Best label sequence under the IOB2 constraints for `rows[word][label]` log-probabilities
/// (plus optional additive transition scores `extra[prev][cur]`).
pub fn viterbi(rows: &[Vec<f32>], labels: &[String], extra: Option<&[Vec<f32>]>) -> Vec<usize> {
    let n = labels.len();
    if rows.is_empty() {
        return Vec::new();
    }
    let trans = |p: usize, c: usize| -> f32 {
        if !allowed_iob2(Some(&labels[p]), &labels[c]) {
            return f32::NEG_INFINITY;
        }
        extra.map_or(0.0, |e| e[p][c])
    };
    let mut score: Vec<f32> =
        (0..n).map(|c| if allowed_iob2(None, &labels[c]) { rows[0][c] } else { f32::NEG_INFINITY }).collect();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(rows.len());
    for row in &rows[1..] {
        let mut next = vec![f32::NEG_INFINITY; n];
        let mut from = vec![0usize; n];
        for c in 0..n {
            for (p, &prev) in score.iter().enumerate() {
                let s = prev + trans(p, c);
                if s > next[c] {
                    next[c] = s;
                    from[c] = p;
                }
            }
            next[c] += row[c];
        }
        back.push(from);
        score = next;
    }
    let mut best = (0..n).max_by(|&a, &b| score[a].total_cmp(&score[b])).unwrap_or(0);
    let mut path = vec![best];
    for from in back.iter().rev() {
        best = from[best];
        path.push(best);
    }
    path.reverse();
    path
}

/// [`viterbi`] without extra transition scores.
pub fn viterbi_iob2(rows: &[Vec<f32>], labels: &[String]) -> Vec<usize> {
    viterbi(rows, labels, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbids_dangling_inside_tags() {
        let labels: Vec<String> = ["O", "B-X", "I-X"].map(String::from).to_vec();
        // Arg-max would give I-X I-X; the best valid path is B-X I-X.
        let rows = vec![vec![-2.0, -1.5, -0.1], vec![-3.0, -2.0, -0.1]];
        assert_eq!(viterbi_iob2(&rows, &labels), vec![1, 2]);
        assert!(!allowed_iob2(Some("O"), "I-X"));
        assert!(!allowed_iob2(Some("B-Y"), "I-X"));
        assert!(allowed_iob2(Some("I-X"), "I-X"));
    }
}
