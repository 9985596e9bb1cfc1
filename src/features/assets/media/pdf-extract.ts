// PDF text extraction with unpdf (PDF.js), page by page so the page limit and the 4 MiB text limit
// are checked as it goes. It runs inside the worker of ./pdf-worker.ts, after the pre-scan.
import { invalid, limitExceeded } from './errors.ts';
import { MAX_TEXT_BYTES, PDF_LIMITS } from './limits.ts';

export interface NormalizedPdf {
  pages: number;
  text?: string;
}

interface TextItemLike {
  str?: string;
  hasEOL?: boolean;
}

export async function extractPdfText(bytes: Uint8Array): Promise<NormalizedPdf> {
  const { getDocumentProxy } = await import('unpdf');
  let doc: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // A plain Uint8Array copy: PDF.js refuses Buffers and may detach the buffer it is given.
    doc = await getDocumentProxy(new Uint8Array(bytes), {
      verbosity: 0,
      disableFontFace: true,
      useSystemFonts: false,
    });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'PasswordException')
      throw invalid('PDF is encrypted with a password; its text cannot be read');
    throw invalid(`PDF could not be parsed: ${(err as Error).message}`);
  }
  try {
    if (doc.numPages > PDF_LIMITS.maxPages)
      throw limitExceeded(`PDF has ${doc.numPages} pages; the limit is ${PDF_LIMITS.maxPages}`);
    const parts: string[] = [];
    let size = 0;
    for (let i = 1; i <= doc.numPages; i++) {
      let pageText = '';
      try {
        const page = await doc.getPage(i);
        const content = await page.getTextContent();
        for (const item of content.items as TextItemLike[])
          pageText += (item.str ?? '') + (item.hasEOL ? '\n' : '');
        page.cleanup();
      } catch (err) {
        throw invalid(`PDF page ${i} could not be read: ${(err as Error).message}`);
      }
      size += Buffer.byteLength(pageText) + 2;
      if (size > MAX_TEXT_BYTES)
        throw limitExceeded(`text extracted from the PDF exceeds ${MAX_TEXT_BYTES} bytes (the limit)`);
      parts.push(pageText.trimEnd());
    }
    const text = parts.join('\n\n').trim();
    return { pages: doc.numPages, ...(text ? { text } : {}) };
  } finally {
    await doc.loadingTask.destroy().catch(() => {});
  }
}
