"""Filing's request/response models and pure rules."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared import codes


class ProviderIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=100, description="接入服务提供者名称")
    province: str = Field(description="所在省份代码（provinces.csv 的 code，如 BJ）")
    provider_id: str | None = Field(
        None, pattern=r"^[a-z0-9][a-z0-9-]{1,39}$", description="可选：指定标识（小写字母、数字、连字符）"
    )

    @field_validator("province")
    @classmethod
    def _province(cls, v: str) -> str:
        if not codes.is_valid("provinces", v):
            raise ValueError(f"省份代码 {v} 不存在")
        return v


class ProviderOut(BaseModel):
    provider_id: str
    name: str
    province: str
    created_at: datetime


class ProviderList(BaseModel):
    items: list[ProviderOut]
    total: int
