"""TDMRep inside the file: the reservation and policy written into an EPUB's package document or a
PDF's XMP metadata, so a copy that leaves the website still says it.

W3C TDMRep (Final Community Group Report, 2024) gives both forms (section "TDM properties in
EPUB" and "TDM properties in PDF"): EPUB 3 ``<meta property="tdm:reservation">`` with the
package's ``prefix`` binding ``tdm`` to ``http://www.w3.org/ns/tdmrep#``, EPUB 2 ``<meta
name="tdm:reservation" content="…"/>``; PDF an XMP property in the namespace
``http://www.w3.org/ns/tdmrep/`` (a slash, not the EPUB ``#``). The readers are
:func:`obra.aiuse.signals.tdmrep.read_epub` / :func:`~obra.aiuse.signals.tdmrep.read_pdf`; every
file written here is read back with them before it is returned.

What is kept: everything else in the file. The EPUB is rewritten member by member in the same
order (``mimetype`` first and stored, as OCF requires), only the package document changed, and
any earlier TDM entry replaced rather than doubled; a PDF keeps its pages, its document
information and its XMP packet, to which a ``tdm`` description is added (an earlier one
replaced). Nothing is fetched and no entity is resolved.
"""

from __future__ import annotations

import io
import zipfile

from lxml import etree

from obra.aiuse.signals import tdmrep
from obra.errors import InvalidInput, Problem

__all__ = ["KINDS", "embed", "embed_epub", "embed_pdf", "kind_of"]

_OPF_NS = "http://www.idpf.org/2007/opf"
_CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XMP = "adobe:ns:meta/"
KINDS = {".epub": "epub", ".pdf": "pdf"}
"""File name endings whose format carries TDMRep itself."""


def kind_of(name: str, data: bytes) -> str | None:
    """``epub``, ``pdf`` or ``None``: by the bytes (a PDF header, an OCF ``mimetype`` member), not the name alone."""
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:4] == b"PK\x03\x04" and data[30:38] == b"mimetype" and b"application/epub+zip" in data[38:80]:
        return "epub"
    return None


def embed(name: str, data: bytes, reservation: int, policy: str | None = None) -> bytes:
    """A copy of the EPUB or PDF ``data`` carrying ``reservation`` (and ``policy``), checked by reading it back."""
    kind = kind_of(name, data)
    if kind is None:
        raise InvalidInput(Problem("not an EPUB or PDF file: TDMRep metadata goes inside those two formats only",
                                   source=name, field="media"),
                           hint="other media carry the terms in a signed C2PA manifest (CAWG)")
    out = embed_epub(data, reservation, policy, name) if kind == "epub" else embed_pdf(data, reservation, policy, name)
    step = tdmrep.read_epub(out, name) if kind == "epub" else tdmrep.read_pdf(out, name)
    if step.reservation != reservation or (reservation == 1 and (step.policy or None) != (policy or None)):
        raise InvalidInput(Problem(f"the TDMRep metadata written into {name} does not read back "
                                   f"({step.reservation!r}, {step.policy!r})", source=name))
    return out


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_blank_text=False)


def _xml(data: bytes, where: str) -> etree._Element:
    try:
        return etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(Problem(f"{where} is not well-formed XML: {exc}", source=where)) from None


def embed_epub(data: bytes, reservation: int, policy: str | None = None, name: str = "book.epub") -> bytes:
    """The EPUB with its package document's TDM entries set (EPUB 3 or 2 form, after the package's version)."""
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InvalidInput(Problem(f"not an EPUB (not a ZIP container): {exc}", source=name)) from None
    with source:
        container = _xml(source.read("META-INF/container.xml"), f"{name}:META-INF/container.xml")
        rootfile = container.find(f".//{{{_CONTAINER_NS}}}rootfile")
        opf_path = rootfile.get("full-path") if rootfile is not None else None
        if not opf_path:
            raise InvalidInput(Problem("container.xml names no package document (rootfile full-path)", source=name))
        package = _xml(source.read(opf_path), f"{name}:{opf_path}")
        _set_opf(package, reservation, policy, name)
        opf = etree.tostring(package, xml_declaration=True, encoding="utf-8")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for info in source.infolist():
                body = opf if info.filename == opf_path else source.read(info)
                copy = zipfile.ZipInfo(info.filename, info.date_time)
                copy.external_attr = info.external_attr
                # OCF: the mimetype member first and stored; the rest compressed as they were.
                copy.compress_type = zipfile.ZIP_STORED if info.filename == "mimetype" else info.compress_type
                target.writestr(copy, body)
    return out.getvalue()


def _set_opf(package: etree._Element, reservation: int, policy: str | None, name: str) -> None:
    metadata = package.find(f"{{{_OPF_NS}}}metadata")
    if metadata is None:
        raise InvalidInput(Problem("the package document has no <metadata>", source=name))
    version = (package.get("version") or "3.0").strip()
    epub3 = not version.startswith("2")
    for meta in list(metadata.iter(f"{{{_OPF_NS}}}meta")):   # earlier TDM entries: replaced, never doubled
        if (meta.get("property") or "").startswith("tdm:") or (meta.get("name") or "").startswith("tdm:"):
            meta.getparent().remove(meta)
    entries = [("reservation", str(reservation))] + ([("policy", policy)] if policy and reservation == 1 else [])
    for key, value in entries:
        meta = etree.SubElement(metadata, f"{{{_OPF_NS}}}meta")
        if epub3:
            meta.set("property", f"tdm:{key}")
            meta.text = value
        else:
            meta.set("name", f"tdm:{key}")
            meta.set("content", value)
    if epub3:   # bind the prefix (EPUB 3 Packages, "prefix attribute"), keeping the others
        declared = (package.get("prefix") or "").split()
        pairs = dict(zip(declared[0::2], declared[1::2]))
        if pairs.get("tdm:") != tdmrep.EPUB_NS:
            pairs["tdm:"] = tdmrep.EPUB_NS
            package.set("prefix", " ".join(f"{k} {v}" for k, v in pairs.items()))


def embed_pdf(data: bytes, reservation: int, policy: str | None = None, name: str = "document.pdf") -> bytes:
    """The PDF with ``tdm:reservation`` (and ``tdm:policy``) in its XMP metadata stream."""
    from pypdf import PdfReader, PdfWriter

    try:
        reader = PdfReader(io.BytesIO(data))
        writer = PdfWriter(clone_from=reader)
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds of error on a damaged file
        raise InvalidInput(Problem(f"not a readable PDF: {exc}", source=name)) from None
    existing = None
    metadata = reader.trailer["/Root"].get("/Metadata")
    if metadata is not None:
        try:
            existing = metadata.get_object().get_data()
        except Exception:  # noqa: BLE001 - an unreadable packet is replaced, not merged
            existing = None
    writer.xmp_metadata = _xmp_with_tdm(existing, reservation, policy, name)   # the catalog's /Metadata stream
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _xmp_with_tdm(existing: bytes | None, reservation: int, policy: str | None, name: str) -> bytes:
    fresh = tdmrep.xmp_packet(reservation, policy)
    if not existing:
        return fresh
    try:
        root = etree.fromstring(existing.strip().split(b"?>", 1)[-1].rsplit(b"<?xpacket", 1)[0] or existing,
                                _parser())
    except etree.XMLSyntaxError:
        return fresh
    rdf = root if root.tag == f"{{{_RDF}}}RDF" else root.find(f".//{{{_RDF}}}RDF")
    if rdf is None:
        return fresh
    for description in list(rdf.findall(f"{{{_RDF}}}Description")):   # earlier tdm properties go
        for child in list(description):
            if child.tag.startswith(f"{{{tdmrep.PDF_NS}}}") or child.tag.startswith(f"{{{tdmrep.EPUB_NS}}}"):
                description.remove(child)
        if not len(description) and not [a for a in description.attrib if a != f"{{{_RDF}}}about"]:
            rdf.remove(description)
    ours = _xml(fresh.split(b"?>", 1)[1].rsplit(b"<?xpacket", 1)[0], f"{name}: XMP")
    rdf.append(ours.find(f".//{{{_RDF}}}Description"))
    body = etree.tostring(root, encoding="utf-8")
    return b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body + b'\n<?xpacket end="w"?>'
