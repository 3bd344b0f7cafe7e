"""E-certificates (电子证书, seed 1.5.1): one PDF per numbered website.

Drawn with ReportLab's built-in Adobe CID font STSong-Light (the PDF viewer supplies the glyphs), so
no font file ships with the service and Chinese text renders and can be searched and copied."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@dataclass(frozen=True)
class Certificate:
    sponsor_name: str
    website_name: str
    domains: list[str]
    home_urls: list[str]
    subject_no: str
    website_no: str
    approved_on: dt.date
    providers: list[str]
    issued_on: dt.date
    code: str


def fields(c: Certificate) -> list[tuple[str, str]]:
    """The certificate's labelled fields, in print order (the tests read them back)."""
    return [
        ("主办单位名称", c.sponsor_name),
        ("网站名称", c.website_name),
        ("网站域名", "；".join(c.domains)),
        ("网站首页网址", "；".join(c.home_urls) or "—"),
        ("主体备案号", c.subject_no),
        ("网站备案号", c.website_no),
        ("审核通过日期", c.approved_on.isoformat()),
        ("接入服务提供者", "；".join(c.providers) or "—"),
        ("发证日期", c.issued_on.isoformat()),
        ("验证码", c.code),
    ]


def _wrap(text: str, width: float, size: float) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(line + ch, FONT, size) > width:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line]


def render(c: Certificate) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"ICP备案电子证书 {c.website_no}")
    pdf.setAuthor("ICP 备案管理系统")
    width, height = A4
    pdf.setLineWidth(2)
    pdf.rect(40, 40, width - 80, height - 80)
    pdf.setFont(FONT, 24)
    pdf.drawCentredString(width / 2, height - 110, "ICP备案电子证书")
    pdf.setFont(FONT, 11)
    pdf.drawCentredString(width / 2, height - 135, "（网站备案信息）")
    y = height - 190
    for label, value in fields(c):
        pdf.setFont(FONT, 13)
        pdf.drawString(80, y, f"{label}：")
        for line in _wrap(value, width - 260, 13):
            pdf.drawString(200, y, line)
            y -= 22
        y -= 8
    pdf.setFont(FONT, 10)
    note = "凭网站备案号或验证码可在本系统首页“公共查询”中核验本证书的真实性。"
    for line in _wrap(note, width - 160, 10):
        pdf.drawString(80, y - 10, line)
        y -= 16
    pdf.showPage()
    pdf.save()
    return buf.getvalue()
