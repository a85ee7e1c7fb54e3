//! The search language, shared by the CLI and the app: words (stemmed), "phrases", `prefix*`,
//! `AND` / `OR` / `NOT` / `-word`, parentheses, and inline tags (`@busy-parent #checkout`) that
//! filter the results. Words next to each other must all match.

use std::fmt;

use crate::error::{Error, Result};
use crate::model::Tag;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Word(String),
    Phrase(String),
    Prefix(String),
    Tag(Tag),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// A parsed query; `None` matches every note (an empty query, or filters only).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub expr: Option<Expr>,
}

impl Query {
    pub fn parse(input: &str) -> Result<Query> {
        let tokens = lex(input).map_err(|reason| bad(input, reason))?;
        let mut parser = Parser { tokens, pos: 0 };
        if parser.tokens.is_empty() {
            return Ok(Query::default());
        }
        let expr = parser.or().map_err(|reason| bad(input, reason))?;
        if let Some(t) = parser.tokens.get(parser.pos) {
            return Err(bad(input, format!("unexpected {t}")));
        }
        Ok(Query { expr: Some(expr) })
    }

    /// Whether any words must match: then hits are ranked by relevance, otherwise newest first.
    pub fn has_text(&self) -> bool {
        fn positive_text(e: &Expr) -> bool {
            match e {
                Expr::Word(_) | Expr::Phrase(_) | Expr::Prefix(_) => true,
                Expr::Tag(_) | Expr::Not(_) => false,
                Expr::And(es) | Expr::Or(es) => es.iter().any(positive_text),
            }
        }
        self.expr.as_ref().is_some_and(positive_text)
    }

    /// The query's tags that every hit must carry (not those under OR or NOT).
    pub fn required_tags(&self) -> Vec<Tag> {
        match &self.expr {
            Some(Expr::Tag(t)) => vec![t.clone()],
            Some(Expr::And(es)) => es
                .iter()
                .filter_map(|e| match e {
                    Expr::Tag(t) => Some(t.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn bad(input: &str, reason: impl Into<String>) -> Error {
    Error::Query {
        query: input.to_owned(),
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Phrase(String),
    Word(String),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Open => f.write_str("'('"),
            Token::Close => f.write_str("')'"),
            Token::And => f.write_str("AND"),
            Token::Or => f.write_str("OR"),
            Token::Not => f.write_str("NOT"),
            Token::Phrase(p) => write!(f, "\"{p}\""),
            Token::Word(w) => write!(f, "{w:?}"),
        }
    }
}

fn lex(input: &str) -> std::result::Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' {
            chars.next();
            tokens.push(Token::Open);
        } else if c == ')' {
            chars.next();
            tokens.push(Token::Close);
        } else if c == '"' || c == '“' || c == '”' {
            chars.next();
            let mut phrase = String::new();
            loop {
                match chars.next() {
                    Some('"' | '”' | '“') => break,
                    Some(ch) => phrase.push(ch),
                    None => return Err("a quote (\") is not closed".into()),
                }
            }
            tokens.push(Token::Phrase(phrase));
        } else {
            let mut word = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || ch == '(' || ch == ')' || ch == '"' {
                    break;
                }
                word.push(ch);
                chars.next();
            }
            tokens.push(match word.as_str() {
                "AND" | "&&" => Token::And,
                "OR" | "||" => Token::Or,
                "NOT" => Token::Not,
                _ => Token::Word(word),
            });
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn or(&mut self) -> std::result::Result<Expr, String> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> std::result::Result<Expr, String> {
        let mut parts = vec![self.unary()?];
        loop {
            match self.peek() {
                Some(Token::And) => {
                    self.pos += 1;
                    parts.push(self.unary()?);
                }
                Some(Token::Or | Token::Close) | None => break,
                Some(_) => parts.push(self.unary()?),
            }
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr::And(parts)
        })
    }

    fn unary(&mut self) -> std::result::Result<Expr, String> {
        match self.tokens.get(self.pos).cloned() {
            None => Err("it ends where a word was expected".into()),
            Some(Token::Not) => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Token::Open) => {
                self.pos += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err("a parenthesis is not closed".into());
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Token::Phrase(p)) => {
                self.pos += 1;
                if p.trim().is_empty() {
                    return Err("a phrase in quotes is empty".into());
                }
                Ok(Expr::Phrase(p))
            }
            Some(Token::Word(w)) => {
                self.pos += 1;
                word(&w)
            }
            Some(t @ (Token::Close | Token::And | Token::Or)) => {
                Err(format!("{t} where a word was expected"))
            }
        }
    }
}

fn word(w: &str) -> std::result::Result<Expr, String> {
    if let Some(rest) = w.strip_prefix('-')
        && !rest.is_empty()
    {
        return Ok(Expr::Not(Box::new(word(rest)?)));
    }
    if let Some(tag) = Tag::parse_token(w) {
        return Ok(Expr::Tag(tag));
    }
    if let Some(stem) = w.strip_suffix('*') {
        let stem = stem.trim_end_matches('*');
        if stem.chars().filter(|c| c.is_alphanumeric()).count() == 0 {
            return Err(format!("{w:?} needs letters before the '*'"));
        }
        return Ok(Expr::Prefix(stem.to_lowercase()));
    }
    Ok(Expr::Word(w.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Facet;

    fn parse(q: &str) -> Expr {
        Query::parse(q).unwrap().expr.unwrap()
    }

    #[test]
    fn words_next_to_each_other_all_match() {
        assert_eq!(
            parse("long wait"),
            Expr::And(vec![Expr::Word("long".into()), Expr::Word("wait".into())])
        );
    }

    #[test]
    fn sigils_become_tag_filters() {
        let q = Query::parse("@busy-parent #checkout waiting").unwrap();
        assert!(q.has_text());
        let tags = q.required_tags();
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0].facet, Facet::Persona);
        assert!(!Query::parse("#checkout").unwrap().has_text());
    }

    #[test]
    fn operators_phrases_and_prefixes() {
        assert_eq!(
            parse("queue OR line -staff"),
            Expr::Or(vec![
                Expr::Word("queue".into()),
                Expr::And(vec![
                    Expr::Word("line".into()),
                    Expr::Not(Box::new(Expr::Word("staff".into())))
                ])
            ])
        );
        assert_eq!(parse("\"long queue\""), Expr::Phrase("long queue".into()));
        assert_eq!(parse("Queu*"), Expr::Prefix("queu".into()));
        assert_eq!(
            parse("NOT (a OR b)"),
            Expr::Not(Box::new(Expr::Or(vec![
                Expr::Word("a".into()),
                Expr::Word("b".into())
            ])))
        );
    }

    #[test]
    fn malformed_queries_are_errors_not_panics() {
        for q in [
            "(queue",
            "\"open",
            "queue AND",
            "OR",
            ")",
            "*",
            "a ()",
            "NOT",
        ] {
            let err = Query::parse(q).unwrap_err().to_string();
            assert!(err.starts_with("cannot search for"), "{q:?}: {err}");
        }
        assert_eq!(Query::parse("   ").unwrap(), Query::default());
    }
}

/// Narrowing that search and analysis share: every listed condition must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub tags: Vec<Tag>,
    pub kind: Option<crate::model::NoteKind>,
    pub session: Option<String>,
    /// The study's id in the archive (the CLI resolves names).
    pub study: Option<i64>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}
