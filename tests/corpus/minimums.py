"""Hand-written minimums of the corpus, from each package's own documentation (its quickstart,
tutorial or README): the functions a user calls first, and how many functions must be bound.

Python paths are the public paths a user writes (``requests.Session``, ``rich.console.Console``);
a path is bound when an extern of the mapped surface calls it (``Function.target`` is
``module:qualname``, so ``requests:Session.close`` is ``requests.Session.close``; a constructor's
target is the class).

``bind`` lists the documented first calls bound today. ``gaps`` lists the documented first calls
the type table cannot bind today, with the reason SKIPPED.txt gives (or, where SKIPPED.txt says
nothing, why the path is not on the surface): they are expected failures, strict, so each one is
visible in every run and turns into a failure the day it is fixed (move it to ``bind`` then).
The same holds for ``functions``: where the number a user needs is above today's, ``count_gap``
says why, and the count test is a strict expected failure.

Do not lower a minimum or move a path into ``gaps`` to make a run pass: that is a regression.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Appended to every gap's reason: the issue that is meant to close it.
RAISED_BY = "raised by the surface-coverage issue"


@dataclass(frozen=True)
class Minimum:
    docs: str                                      # where the first calls come from
    functions: int                                 # at least this many externs (mep-71 surface)
    bind: tuple[str, ...] = ()                     # documented first calls, bound
    gaps: dict[str, str] = field(default_factory=dict)  # documented first calls not bound: path -> why
    count_gap: str = ""                            # set when ``functions`` is above today's count: why


_ARGS = "SkipParamSpec `{}` (*args cannot be declared on an extern)"
_OVERLOAD = "SkipOverloadAmbiguity ({})"
_TYPEVAR = "SkipUnsupportedTypingConstruct `{0}` (TypeVar `{0}`: instantiate it with a monomorphise setting)"
_SUBMODULE = ("not on the surface, no SKIPPED.txt line: `{}` is a submodule and only the top-level import "
              "package is mapped")
_INSTANCE_ATTR = ("not on the surface, no SKIPPED.txt line: an instance attribute assigned in `__init__` "
                  "(`self.{}`), not declared in the class body")


MINIMUMS: dict[str, Minimum] = {
    "numpy": Minimum(
        docs="numpy.org/doc/stable/user/absolute_beginners.html (array creation, basic operations)",
        functions=500,
        bind=("numpy.mean", "numpy.sum", "numpy.pi", "numpy.arange", "numpy.array", "numpy.linspace",
              "numpy.ndarray.reshape", "numpy.ndarray.shape", "numpy.ones", "numpy.zeros"),
    ),
    "pandas": Minimum(
        docs="pandas.pydata.org/docs/user_guide/10min.html",
        functions=500,
        bind=("pandas.DataFrame", "pandas.DataFrame.head", "pandas.DataFrame.describe", "pandas.DataFrame.to_csv",
              "pandas.DataFrame.groupby", "pandas.Series", "pandas.concat", "pandas.merge"),
        gaps={
            "pandas.read_csv": "SkipForwardRef `read_csv` (listed in __all__ but not defined in the stubs)",
        },
    ),
    "scipy": Minimum(
        docs="docs.scipy.org/doc/scipy/tutorial/ (optimize, integrate, stats, linalg)",
        functions=50,
        bind=("scipy.stats.norm",),
        gaps={
            "scipy.optimize.minimize": _SUBMODULE.format("scipy.optimize"),
            "scipy.integrate.quad": _SUBMODULE.format("scipy.integrate"),
            "scipy.linalg.solve": _SUBMODULE.format("scipy.linalg"),
        },
    ),
    "scikit-learn": Minimum(
        docs="scikit-learn.org/stable/getting_started.html",
        functions=50,
        bind=("sklearn.linear_model.LinearRegression", "sklearn.preprocessing.StandardScaler",
              "sklearn.pipeline.make_pipeline", "sklearn.set_config", "sklearn.show_versions"),
        gaps={
            "sklearn.model_selection.train_test_split": _SUBMODULE.format("sklearn.model_selection"),
        },
    ),
    "requests": Minimum(
        docs="requests.readthedocs.io/en/latest/user/quickstart/",
        functions=40,
        bind=("requests.Session", "requests.Session.close", "requests.Response.status_code",
              "requests.Response.text", "requests.Response.raise_for_status", "requests.Response.json",
              "requests.Session.get", "requests.get", "requests.post"),
    ),
    "httpx": Minimum(
        docs="www.python-httpx.org/quickstart/",
        functions=80,
        bind=("httpx.Client", "httpx.Client.close", "httpx.Response.text", "httpx.Response.raise_for_status",
              "httpx.AsyncClient", "httpx.Client.get", "httpx.Response.json", "httpx.get", "httpx.post"),
        gaps={
            "httpx.Response.status_code": _INSTANCE_ATTR.format("status_code = status_code"),
        },
    ),
    "urllib3": Minimum(
        docs="urllib3.readthedocs.io/en/stable/user-guide.html",
        functions=100,
        bind=("urllib3.request", "urllib3.PoolManager", "urllib3.PoolManager.request", "urllib3.HTTPResponse.data",
              "urllib3.Timeout", "urllib3.Retry", "urllib3.BaseHTTPResponse.json"),
        gaps={
            "urllib3.BaseHTTPResponse.status": _INSTANCE_ATTR.format("status = status"),
        },
    ),
    "pillow": Minimum(
        docs="pillow.readthedocs.io/en/stable/handbook/tutorial.html",
        functions=20,
        bind=("PIL.Image.Image.resize", "PIL.Image.Image.save", "PIL.Image.new", "PIL.Image.open"),
    ),
    "pydantic": Minimum(
        docs="docs.pydantic.dev/latest/concepts/models/",
        functions=150,
        bind=("pydantic.Field",),
        gaps={
            "pydantic.BaseModel": "SkipMetaclass `class BaseModel()` (metaclass `_model_construction.ModelMetaclass`)",
            "pydantic.BaseModel.model_validate": "pydantic.BaseModel: SkipMetaclass (the whole class is skipped)",
            "pydantic.BaseModel.model_dump": "pydantic.BaseModel: SkipMetaclass (the whole class is skipped)",
            "pydantic.BaseModel.model_dump_json": "pydantic.BaseModel: SkipMetaclass (the whole class is skipped)",
            "pydantic.TypeAdapter": "pydantic.TypeAdapter.__init__: SkipUnsupportedTypingConstruct `TypeForm[T]` "
                                    "(`TypeForm` is not in the type table)",
        },
    ),
    "attrs": Minimum(
        docs="www.attrs.org/en/stable/overview.html and examples.html",
        functions=20,
        bind=("attrs.validate", "attrs.asdict", "attrs.evolve", "attrs.field", "attrs.define"),
    ),
    "click": Minimum(
        docs="click.palletsprojects.com/en/stable/quickstart/",
        functions=200,
        bind=("click.echo", "click.secho", "click.prompt", "click.confirm", "click.Command", "click.Group",
              "click.style"),
        gaps={
            "click.command": _OVERLOAD.format("superset arm does not map: `type[CmdType]`"),
            "click.group": _OVERLOAD.format("superset arm does not map: `type[GrpType]`"),
            "click.option": _ARGS.format("*param_decls: str"),
            "click.argument": _ARGS.format("*param_decls: str"),
        },
    ),
    "typer": Minimum(
        docs="typer.tiangolo.com/tutorial/first-steps/",
        functions=80,
        bind=("typer.Typer", "typer.echo", "typer.secho", "typer.confirm", "typer.Argument"),
        gaps={
            "typer.run": "SkipParamSpec `Callable[..., Any]`",
            "typer.Typer.command": _TYPEVAR.format("CommandFunctionType"),
            "typer.Option": _ARGS.format("*param_decls: str"),
        },
    ),
    "rich": Minimum(
        docs="rich.readthedocs.io/en/stable/introduction.html and console.html",
        functions=100,
        bind=("rich.console.Console", "rich.console.Console.rule", "rich.print_json", "rich.get_console",
              "rich.console.Console.log", "rich.console.Console.print", "rich.inspect", "rich.print"),
    ),
    "tqdm": Minimum(
        docs="tqdm.github.io (README: Usage)",
        functions=15,
        bind=("tqdm.tqdm", "tqdm.tqdm.set_description", "tqdm.tqdm.close", "tqdm.tqdm.update", "tqdm.tqdm.write",
              "tqdm.trange"),
    ),
    "sqlalchemy": Minimum(
        docs="docs.sqlalchemy.org/en/20/tutorial/ (engine, dbapi_transactions, metadata, data_select)",
        functions=2000,
        bind=("sqlalchemy.text", "sqlalchemy.MetaData", "sqlalchemy.Integer", "sqlalchemy.String",
              "sqlalchemy.Engine.connect", "sqlalchemy.Connection.commit", "sqlalchemy.Connection.execute",
              "sqlalchemy.Table", "sqlalchemy.create_engine", "sqlalchemy.orm.Session", "sqlalchemy.select"),
        gaps={
            "sqlalchemy.Column": "SkipDescriptor (descriptor class `Column`)",
        },
    ),
    "fastapi": Minimum(
        docs="fastapi.tiangolo.com/tutorial/first-steps/",
        functions=30,
        bind=("fastapi.FastAPI", "fastapi.APIRouter", "fastapi.FastAPI.include_router", "fastapi.Depends",
              "fastapi.Query"),
        gaps={
            "fastapi.FastAPI.get": _TYPEVAR.format("DecoratedCallable"),
            "fastapi.FastAPI.post": _TYPEVAR.format("DecoratedCallable"),
        },
    ),
    "starlette": Minimum(
        docs="www.starlette.io (README example: applications, responses, routing)",
        functions=20,
        bind=("starlette.applications.Starlette", "starlette.responses.JSONResponse"),
        gaps={
            "starlette.routing.Route": _SUBMODULE.format("starlette.routing"),
        },
    ),
    "uvicorn": Minimum(
        docs="www.uvicorn.org (Usage: uvicorn.run, Config and Server)",
        functions=5,
        bind=("uvicorn.Server", "uvicorn.Server.run", "uvicorn.Config", "uvicorn.run"),
    ),
    "aiohttp": Minimum(
        docs="docs.aiohttp.org/en/stable/client_quickstart.html and web_quickstart.html",
        functions=200,
        bind=("aiohttp.ClientSession", "aiohttp.ClientSession.close", "aiohttp.ClientResponse.status",
              "aiohttp.ClientResponse.text", "aiohttp.ClientResponse.raise_for_status",
              "aiohttp.ClientResponse.json", "aiohttp.ClientSession.get", "aiohttp.ClientSession.post",
              "aiohttp.web.Application", "aiohttp.web.run_app"),
    ),
    "pyyaml": Minimum(
        docs="pyyaml.org/wiki/PyYAMLDocumentation",
        functions=400,
        bind=("yaml.dump", "yaml.safe_dump", "yaml.safe_load", "yaml.load"),
    ),
    "toml": Minimum(
        docs="github.com/uiri/toml (README: API Reference)",
        functions=10,
        bind=("toml.TomlDecoder", "toml.TomlEncoder", "toml.dumps", "toml.load", "toml.loads"),
        gaps={
            "toml.dump": _TYPEVAR.format("_MappingT"),
        },
    ),
    "tomli": Minimum(
        docs="github.com/hukkin/tomli (README: Usage)",
        functions=2,
        bind=("tomli.loads",),
        gaps={
            "tomli.load": "SkipUnsupportedTypingConstruct `IO[bytes]` (`IO` is not in the type table)",
        },
    ),
    "msgpack": Minimum(
        docs="github.com/msgpack/msgpack-python (README: Basic usage, Streaming unpacking)",
        functions=6,
        bind=("msgpack.Packer", "msgpack.Unpacker", "msgpack.packb", "msgpack.unpackb", "msgpack.Packer.pack",
              "msgpack.Unpacker.feed"),
    ),
    "orjson": Minimum(
        docs="github.com/ijl/orjson (README: Serialize, Deserialize, Option)",
        functions=10,
        bind=("orjson.OPT_INDENT_2", "orjson.OPT_SORT_KEYS", "orjson.dumps", "orjson.loads"),
    ),
    "pytest": Minimum(
        docs="docs.pytest.org/en/stable/getting-started.html and how-to/fixtures.html",
        functions=20,
        bind=("pytest.fixture", "pytest.raises", "pytest.main", "pytest.skip"),
        gaps={
            "pytest.approx": ("SkipUnsupportedTypingConstruct `T` (an unbounded TypeVar: pytest's stub tier is "
                              "stubgen, the weakest of its packages', since its `py` module has no stubs)"),
        },
    ),
}
