"""SQL of the detection schema."""

from __future__ import annotations

import uuid

import asyncpg

from shared.contracts.detection import SiteDetected


async def record_sighting(conn: asyncpg.Connection, e: SiteDetected, *, message_id: uuid.UUID) -> None:
    domain = e.domain.strip().lower().rstrip(".")
    det_id = await conn.fetchval(
        """INSERT INTO detections (domain, first_seen, last_seen, sightings, provider_id, province)
           VALUES ($1, $2, $2, 1, $3, $4)
           ON CONFLICT (domain) DO UPDATE SET sightings = detections.sightings + 1,
               last_seen = GREATEST(detections.last_seen, EXCLUDED.last_seen),
               first_seen = LEAST(detections.first_seen, EXCLUDED.first_seen),
               provider_id = COALESCE(EXCLUDED.provider_id, detections.provider_id),
               province = COALESCE(EXCLUDED.province, detections.province)
           RETURNING id""",
        domain,
        e.detected_at,
        e.provider_id,
        e.province,
    )
    await conn.execute(
        """INSERT INTO sightings (message_id, detection_id, ip, source, detected_at, provider_id, province)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        message_id,
        det_id,
        e.ip,
        e.source,
        e.detected_at,
        e.provider_id,
        e.province,
    )
