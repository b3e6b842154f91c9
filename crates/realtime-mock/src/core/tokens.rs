//! Splitting text the way a model streams it: words with their leading space, punctuation on
//! its own (`"Hello, Marcelo!"` → `Hello` `,` ` Marcelo` `!`), and rough token counts.

/// Splits text into streaming pieces. Joining them gives the text back.
pub(crate) fn split(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        let word = |c: char| c.is_alphanumeric() || c == '\'' || c == '_';
        let end = if word(c) || (c == ' ' && chars.peek().is_some_and(|&(_, n)| word(n))) {
            // A word, with at most one leading space.
            if c == ' ' {
                chars.next();
            }
            while chars.peek().is_some_and(|&(_, n)| word(n)) {
                chars.next();
            }
            chars.peek().map_or(text.len(), |&(i, _)| i)
        } else if c.is_whitespace() {
            while chars
                .peek()
                .is_some_and(|&(_, n)| n.is_whitespace() && n != ' ')
            {
                chars.next();
            }
            chars.peek().map_or(text.len(), |&(i, _)| i)
        } else {
            index + c.len_utf8()
        };
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
}

/// A rough token count for usage reports: about four characters a token.
pub(crate) fn estimate(text: &str) -> u64 {
    if text.is_empty() {
        0
    } else {
        (text.chars().count() as u64).div_ceil(4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_look_like_model_deltas_and_join_back() {
        assert_eq!(
            split("Hello, Marcelo! Great to meet you."),
            [
                "Hello", ",", " Marcelo", "!", " Great", " to", " meet", " you", "."
            ]
        );
        for text in [
            "",
            " ",
            "  two  spaces ",
            "{\"city\": \"Paris\"}",
            "naïve café — ok\n",
        ] {
            assert_eq!(split(text).concat(), text);
            assert!(split(text).iter().all(|piece| !piece.is_empty()));
        }
    }
}
