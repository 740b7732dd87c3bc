"""The bench's peer: the seed's own stack (FastAPI + SQLAlchemy async/asyncpg + OpenTelemetry).

The same endpoints as tracebridge, on the same tables (created by tracebridge's migrations),
with the same response shapes and the seed's span hierarchy:

    GET /users/{user_id}                 SERVER   (opentelemetry-instrumentation-fastapi)
    ├── db.query.find                    INTERNAL (the ORM span, as the seed's ORM emits it)
    │   └── SELECT <db>                  CLIENT   (opentelemetry-instrumentation-sqlalchemy)
    └── db.relationship.load             INTERNAL (lazy)
        └── SELECT <db>                  CLIENT

Configuration is the OpenTelemetry SDK's own environment (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_TRACES_SAMPLER[_ARG], OTEL_BSP_*, OTEL_SDK_DISABLED) plus DATABASE_URL and DB_POOL_MAX.
Run with: python -m uvicorn app:app --app-dir test/bench/peer --loop uvloop --http httptools
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, AsyncIterator, Optional
from urllib.parse import urlsplit, urlunsplit

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Response
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import ForeignKey, String, Text, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncAttrs, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload

TRACING = os.environ.get("OTEL_SDK_DISABLED", "false").lower() != "true"


def asyncpg_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql+asyncpg", parts.netloc, parts.path, parts.query, parts.fragment))


DATABASE_URL = os.environ["DATABASE_URL"]
DB_NAME = urlsplit(DATABASE_URL).path.lstrip("/")

# --- telemetry ---------------------------------------------------------------------------------

provider = TracerProvider(
    resource=Resource.create(
        {
            "service.name": os.environ.get("SERVICE_NAME", "fastapi-peer"),
            "service.version": "1.0.0",
            "deployment.environment.name": "bench",
        }
    )
)
if TRACING:
    # Endpoint, sampler and batch settings come from the standard OTEL_* variables.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(insecure=True)))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("peer-orm")


class orm_span:
    """The seed's ORM span around one ORM operation (db.query.* / db.relationship.load)."""

    def __init__(self, name: str, table: str, operation: str, relationship_name: str | None = None, strategy: str | None = None):
        attributes = {
            "db.system.name": "postgresql",
            "db.namespace": DB_NAME,
            "db.collection.name": table,
            "db.operation.name": operation,
        }
        if relationship_name:
            attributes["db.relationship.name"] = relationship_name
            attributes["db.relationship.strategy"] = strategy or "lazy"
        self._cm = tracer.start_as_current_span(name, attributes=attributes)

    def __enter__(self) -> trace.Span:
        self.span = self._cm.__enter__()
        return self.span

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)  # type: ignore[arg-type]


# --- database ----------------------------------------------------------------------------------

engine = create_async_engine(
    asyncpg_url(DATABASE_URL),
    pool_size=int(os.environ.get("DB_POOL_MAX", "10")),
    max_overflow=0,
    # SQLAlchemy's default (30 s), as the seed runs it: with 3 s, a multi-second stall of the
    # peer on a busy machine turned into 500s (1 in about 900 responses) and failed figure 2.
    pool_timeout=30,
)
if TRACING:
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, tracer_provider=provider)
Session = async_sessionmaker(engine, expire_on_commit=False)


class Base(AsyncAttrs, DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    age: Mapped[Optional[int]]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    posts: Mapped[list["Post"]] = relationship(back_populates="author", order_by="Post.id", lazy="select")


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    author: Mapped[User] = relationship(back_populates="posts", lazy="select")


async def session() -> AsyncIterator[AsyncSession]:
    async with Session() as s:
        yield s


DbSession = Annotated[AsyncSession, Depends(session)]

# --- schemas (the same shapes as tracebridge's) ------------------------------------------------


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    email: str
    age: Optional[int]
    created_at: datetime


class PostOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    content: str
    author_id: int
    created_at: datetime


class UserWithPosts(UserOut):
    posts: list[PostOut]


class PostWithAuthor(PostOut):
    author: UserOut


class PostPage(BaseModel):
    items: list[PostWithAuthor]
    limit: int
    offset: int
    next_offset: Optional[int]


class NewPost(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    content: str = Field(max_length=100_000)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr = Field(max_length=254)
    age: Optional[int] = Field(default=None, ge=0, le=150)


# --- app -----------------------------------------------------------------------------------------


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield
    await engine.dispose()
    provider.shutdown()


app = FastAPI(title="tracebridge bench peer (FastAPI)", lifespan=lifespan)


@app.get("/")
async def info() -> dict[str, object]:
    return {"service": "fastapi-peer", "tracing": TRACING}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/readyz")
async def readyz(db: DbSession) -> dict[str, str]:
    await db.execute(text("select 1"))
    return {"status": "ready"}


@app.post("/users", status_code=201, response_model=UserWithPosts)
async def create_user(body: UserCreate, db: DbSession, response: Response) -> UserWithPosts:
    user = User(name=body.name, email=body.email, age=body.age)
    with orm_span("db.query.insert", "users", "insert") as span:
        db.add(user)
        try:
            await db.commit()
        except IntegrityError:
            await db.rollback()
            raise HTTPException(status_code=409, detail="a user with this email already exists")
        span.set_attribute("db.response.returned_rows", 1)
    response.headers["Location"] = f"/users/{user.id}"
    return UserWithPosts(id=user.id, name=user.name, email=user.email, age=user.age, created_at=user.created_at, posts=[])


@app.get("/users/{user_id}", response_model=UserWithPosts)
async def get_user(user_id: Annotated[int, Path(ge=1, le=2_147_483_647)], db: DbSession) -> User:
    with orm_span("db.query.find", "users", "find") as span:
        user = await db.get(User, user_id)
        span.set_attribute("db.response.returned_rows", 0 if user is None else 1)
    if user is None:
        raise HTTPException(status_code=404, detail=f"user {user_id} not found")
    # The seed's trace: the posts relationship loaded lazily, a second statement.
    with orm_span("db.relationship.load", "posts", "find", "posts", "lazy") as span:
        posts = await user.awaitable_attrs.posts
        span.set_attribute("db.response.returned_rows", len(posts))
    return user


@app.get("/posts", response_model=PostPage)
async def list_posts(
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
    eager: bool = False,
) -> PostPage:
    query = select(Post).order_by(Post.id).limit(limit + 1).offset(offset)
    if eager:
        # selectinload: the authors in one extra statement, inside the same ORM operation.
        query = query.options(selectinload(Post.author))
    with orm_span("db.query.find", "posts", "find") as span:
        rows = list((await db.scalars(query)).all())
        span.set_attribute("db.response.returned_rows", len(rows))
    has_more = len(rows) > limit
    rows = rows[:limit]
    if not eager:
        for post in rows:
            with orm_span("db.relationship.load", "users", "find", "author", "lazy"):
                await post.awaitable_attrs.author
    return PostPage(
        items=[PostWithAuthor.model_validate(p) for p in rows],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if has_more else None,
    )


if TRACING:
    # One SERVER span per request, as tracebridge has: not the ASGI receive/send child spans.
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, exclude_spans=["receive", "send"])
