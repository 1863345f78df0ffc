//! Destinations that depend on the row: a sink's topic, subject, URL or path may hold
//! `{{column}}` placeholders (eKuiper's `{{.column}}` too), filled from each result row.
//! Rendering and grouping are columnar (`route`): one string kernel per part of the template,
//! then the rows of a micro-batch are split by destination, each group sent as one batch.

mod route;

pub use route::{Routed, Routes, RowRoutes};

/// A destination with placeholders, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Column(String),
}

/// Why a template could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{{` without its `}}`.
    #[error("'{{{{' at byte {0} is not closed by '}}}}'")]
    Unclosed(usize),
    /// A `{{}}` naming no column.
    #[error("'{{{{}}}}' at byte {0} names no column")]
    Empty(usize),
}

impl Template {
    /// Parses `text`: literal text with `{{column}}` or `{{.column}}` placeholders; spaces
    /// inside the braces are ignored.
    ///
    /// # Errors
    /// When a placeholder is not closed or names no column.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let at = text.len() - rest.len() + open;
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or(TemplateError::Unclosed(at))?;
            let name = after[..close].trim();
            let name = name.strip_prefix('.').unwrap_or(name).trim();
            if name.is_empty() {
                return Err(TemplateError::Empty(at));
            }
            parts.push(Part::Column(name.to_owned()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// Whether the destination depends on the row: it has a placeholder.
    pub fn is_dynamic(&self) -> bool {
        self.columns().next().is_some()
    }

    /// The columns the placeholders name, in order.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Column(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The literal text of the template, with no placeholder filled.
    pub fn literal_parts(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Text(text) => Some(text.as_str()),
            Part::Column(_) => None,
        })
    }
}

/// The template of a sink's destination prop `field` (`topic`, `url`, `path`) holding
/// `text`, when it has a placeholder.
///
/// # Errors
/// When a placeholder is malformed.
pub fn dynamic_template(field: &str, text: &str) -> crate::Result<Option<Template>> {
    let template = Template::parse(text)
        .map_err(|error| crate::Error::Config(format!("props.{field}: {error}")))?;
    Ok(template.is_dynamic().then_some(template))
}

impl std::fmt::Display for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for part in &self.parts {
            match part {
                Part::Text(text) => f.write_str(text)?,
                Part::Column(name) => write!(f, "{{{{{name}}}}}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_in_both_spellings_name_their_columns() {
        let template = Template::parse("alerts/{{ device }}/{{.kind}}").unwrap();
        assert!(template.is_dynamic());
        assert_eq!(template.columns().collect::<Vec<_>>(), ["device", "kind"]);
        assert_eq!(template.to_string(), "alerts/{{device}}/{{kind}}");
        assert!(!Template::parse("alerts/all").unwrap().is_dynamic());
    }

    #[test]
    fn a_broken_placeholder_is_refused_with_its_position() {
        assert_eq!(
            Template::parse("a/{{device").unwrap_err().to_string(),
            "'{{' at byte 2 is not closed by '}}'"
        );
        assert_eq!(
            Template::parse("a/{{ . }}").unwrap_err().to_string(),
            "'{{}}' at byte 2 names no column"
        );
    }
}
