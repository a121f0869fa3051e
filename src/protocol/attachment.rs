//! What a file carried inside a message may be: a PDF or an image (PNG,
//! JPEG), recognised by its first bytes rather than by its name or the type
//! the browser claimed (another agency opens it), and small enough that the
//! sealed envelope stays under the hub's limit (base64 inside the JSON
//! inside age grows it by a third).

use super::payload::Attachment;

/// The most a message's attachments may hold together.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

/// The file types staff may attach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Pdf,
    Png,
    Jpeg,
}

impl FileType {
    /// The type the bytes are, whatever the file is called.
    pub fn sniff(bytes: &[u8]) -> Option<FileType> {
        if bytes.starts_with(b"%PDF-") {
            Some(FileType::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileType::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(FileType::Jpeg)
        } else {
            None
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
        }
    }
}

/// Why a file cannot be attached.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AttachmentError {
    #[error(
        "添付できるのはPDFと画像（PNG・JPEG）だけです。「{0}」はそのどれでもありません (only PDF, PNG and JPEG files can be attached; {0} is none of these)"
    )]
    WrongType(String),
    #[error(
        "添付ファイルは合計5MBまでです（{0}バイトあります） (attachments may hold 5 MB in all; these hold {0} bytes)"
    )]
    TooLarge(usize),
    #[error("添付ファイル「{0}」が空です (the attached file {0} is empty)")]
    Empty(String),
}

/// `bytes` named `file_name`, checked: its type from its content, its name
/// reduced to the last path component.
pub fn attach(file_name: &str, bytes: Vec<u8>) -> Result<Attachment, AttachmentError> {
    let name = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if bytes.is_empty() {
        return Err(AttachmentError::Empty(name));
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(AttachmentError::TooLarge(bytes.len()));
    }
    let kind = FileType::sniff(&bytes).ok_or_else(|| AttachmentError::WrongType(name.clone()))?;
    Ok(Attachment {
        file_name: name,
        media_type: kind.media_type().to_owned(),
        bytes,
    })
}

/// Several attachments together stay under [`MAX_ATTACHMENT_BYTES`].
pub fn check_total(attachments: &[Attachment]) -> Result<(), AttachmentError> {
    let total = attachments.iter().map(|a| a.bytes.len()).sum();
    match total > MAX_ATTACHMENT_BYTES {
        true => Err(AttachmentError::TooLarge(total)),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_comes_from_the_bytes_not_the_name() {
        let pdf = attach("C:\\scans\\doui.pdf", b"%PDF-1.7 ...".to_vec()).unwrap();
        assert_eq!(pdf.media_type, "application/pdf");
        assert_eq!(pdf.file_name, "doui.pdf");
        let png = attach("photo.pdf", b"\x89PNG\r\n\x1a\nrest".to_vec()).unwrap();
        assert_eq!(png.media_type, "image/png");
        assert_eq!(
            attach("page.pdf", b"<html><script>".to_vec()),
            Err(AttachmentError::WrongType("page.pdf".into()))
        );
    }

    #[test]
    fn empty_and_oversized_files_are_refused() {
        assert_eq!(
            attach("a.pdf", vec![]),
            Err(AttachmentError::Empty("a.pdf".into()))
        );
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_ATTACHMENT_BYTES + 1, 0);
        assert_eq!(
            attach("a.pdf", big),
            Err(AttachmentError::TooLarge(MAX_ATTACHMENT_BYTES + 1))
        );
        let half = attach("a.pdf", {
            let mut b = b"%PDF-".to_vec();
            b.resize(MAX_ATTACHMENT_BYTES / 2 + 1, 0);
            b
        })
        .unwrap();
        assert!(check_total(&[half.clone(), half]).is_err());
    }
}
