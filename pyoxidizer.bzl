"""pyoxidizer-ssl: make a PyOxidizer executable verify TLS correctly on every host.

`pyoxidizer-ssl render` (or `build`) writes this file and the rendered bootstrap package into
build/pyoxidizer-ssl/ of the project. Load it from the project directory - PyOxidizer resolves
load() paths against the working directory, not against the config file:

    load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", "pyoxidizer_ssl_executable")

then create the executable with pyoxidizer_ssl_executable() instead of dist.to_python_executable()
(and, to keep offline builds possible, the distribution with pyoxidizer_ssl_distribution(vars =
VARS, ...) with default_python_distribution()'s own arguments). `pyoxidizer-ssl init` prints
exactly this edit for an existing config. A target that does not call these macros is left
exactly as it was.

`pyoxidizer-ssl build` passes these --var values (a load()ed file cannot see VARS, so every macro
takes the caller's VARS as `vars`):
  PYOXIDIZER_SSL_DIR                  directory holding pyoxidizer_ssl_bootstrap (default below)
  PYOXIDIZER_SSL_CERTIFI_DIR          site directory holding the certifi to embed (else pip)
  PYOXIDIZER_SSL_DISTRIBUTION         local python-build-standalone archive (offline builds)
  PYOXIDIZER_SSL_DISTRIBUTION_SHA256  its SHA-256
"""

PYOXIDIZER_SSL_DEFAULT_DIR = "build/pyoxidizer-ssl"

# The interpreter runs this instead of the app; it calls install(), then runs the app target
# recorded in -X pyoxidizer_ssl.<run_command|run_module|run_filename>=VALUE. Passing the target
# as an X option (a plain string the interpreter never parses) means no value is ever spliced
# into code here. If the bootstrap cannot be imported (missing, unreadable in this placement,
# raising), the code in -X pyoxidizer_ssl.fallback runs the target instead, with stock trust,
# after one line on stderr: the shim never stops the app. The name it binds in __main__ is
# removed before the app runs; the fallback is compiled only when it runs. Every start compiles
# this (~0.2 M instructions, the try/except alone ~0.12 M of them): `from … import main`
# compiles and runs ~0.02 M cheaper than `import …` plus a check that main exists (which a
# namespace package of that name lacks). The `exec` passes no namespace (`,{}` parses for
# 0.018 M at every start): the fallback's X option makes its own (_FALLBACK_X).
PYOXIDIZER_SSL_RUN_COMMAND = "try:from pyoxidizer_ssl_bootstrap import main as _pyoxidizer_ssl\nexcept Exception:exec(__import__('sys')._xoptions['pyoxidizer_ssl.fallback'])\nelse:_pyoxidizer_ssl()"

# default_python_distribution()'s flavors in PyOxidizer 0.24.
PYOXIDIZER_SSL_FLAVORS = ["standalone", "standalone_static", "standalone_dynamic"]

# Who puts certifi in the executable: "embed" (default) adds the build environment's certifi as
# bytecode; "app" adds none, for an app that ships its own (its pip_install, pinned or sent to
# lib/), so that the app's version and location are the only copy. The bootstrap reads the
# bundle from whichever certifi the binary holds, in memory or on disk.
PYOXIDIZER_SSL_CERTIFI = ["embed", "app"]

_X_PREFIX = "pyoxidizer_ssl."

# certifi's modules the binary never needs: its own test suite, and its CLI (`python -m
# certifi`, which a binary cannot run; every resource in the index costs each start a little).
_CERTIFI_SKIP = ["certifi.tests", "certifi.__main__"]
_RUN_ATTRS = ["run_command", "run_module", "run_filename"]

# What the run command runs when the bootstrap cannot be imported (inside its `except`, in a
# fresh namespace): say so on one line, be a multiprocessing helper if the argv is one (the
# spawn worker through the stdlib's own freeze_support(), the resource tracker with its integer
# parsed; a forkserver exits 1 rather than run the app), else run the app's target as main()
# would, its exceptions unchained from the failed import. Compact: it is carried in an X option,
# whose cost at every start grows with its length (~0.1 M instructions for 1.6 KB).
_FALLBACK = "\n".join([
    "import sys",
    "e=sys.exc_info()[1]",
    "try:sys.stderr.write(\"pyoxidizer-ssl: the bootstrap did not load (%s: %s); the app runs with OpenSSL default trust; fix: embed pyoxidizer_ssl_bootstrap where this binary imports from (pyoxidizer_ssl_executable or pyoxidizer_ssl_add_resources, built with pyoxidizer-ssl build)\\n\"%(type(e).__name__,\" \".join(str(e).split())))",
    "except Exception:pass",
    "a=sys.argv;g=vars(sys.modules[\"__main__\"]);t=\"from multiprocessing.resource_tracker import main;main(\"",
    "if a[1:2]==[\"--multiprocessing-fork\"]:from multiprocessing.spawn import freeze_support as f;f()",
    "if a[-2:-1]==[\"-c\"]and a[-1].startswith(\"from multiprocessing.\"):",
    " n=a[-1][len(t):-1]",
    " if a[-1]!=t+n+\")\"or not(n.isascii()and n.isdigit()):raise SystemExit(1)",
    " exec(t+str(int(n))+\")\",{});raise SystemExit",
    "c,m,p=(sys._xoptions.get(\"pyoxidizer_ssl.run_\"+k)for k in(\"command\",\"module\",\"filename\"))",
    "try:",
    " if c!=None:exec(c,g)",
    " elif m!=None:import runpy;runpy._run_module_as_main(m)",
    " elif p!=None:import runpy;a[0]=p;runpy.run_path(p,run_name=\"__main__\")",
    " elif not sys.stdin.isatty():exec(compile(sys.stdin.read(),\"<stdin>\",\"exec\"),g)",
    "except BaseException as x:x.__context__=None;raise",
])
# The X option: the run command execs it in __main__'s namespace, and it runs _FALLBACK in a
# fresh one (a literal parsed only when the fallback runs; _FALLBACK holds no ').
_FALLBACK_X = "exec('''" + _FALLBACK.replace("\\", "\\\\") + "''',{})"

def _expect(macro, arg, value, expected, fix):
    if type(value) != expected:
        fail("{}: invalid {} of type {}; must be a {}; {}".format(macro, arg, type(value), expected, fix))

def _var(vars, key, default):
    value = vars.get(key)
    if value == None or value == "":
        return default
    return value

# Every macro takes **kwargs only to name a misspelt keyword itself (certify = "app"), with the
# valid ones, instead of PyOxidizer's "Extraneous parameter passed to function call", which names
# neither. An extra positional argument still gets PyOxidizer's message.
def _check_keywords(macro, kwargs, valid):
    if not kwargs:
        return
    bad = sorted(kwargs.keys())[0]
    near = [name for name in valid if name[:4] == bad[:4]]
    fix = "rename it to {}".format(near[0]) if len(near) == 1 else "correct or remove it"
    fail("{}: invalid keyword argument '{}'; must be one of {}; {}".format(macro, bad, valid, fix))

# PyOxidizer 0.24's Starlark evaluates a `None` or `False` parameter default to the module's
# first string constant; "" is a safe "not given" default.
def pyoxidizer_ssl_distribution(vars, flavor = "standalone", build_target = "", python_version = "", **kwargs):
    """Return the Python distribution to build with: default_python_distribution() plus offline.

    Takes default_python_distribution()'s own arguments, so an adopter renames the call, adds
    vars = VARS and keeps every argument. With PYOXIDIZER_SSL_DISTRIBUTION set (as
    `pyoxidizer-ssl build --distribution` does), that local archive is used and nothing is
    downloaded: the archive then decides the Python version and target, and flavor only has to
    be a valid one (PythonDistribution() knows the "standalone" layout, which covers both).

    Args:
      vars: the config file's VARS dict.
      flavor: the distribution flavor, as for default_python_distribution(). Defaults to
        "standalone".
      build_target: the target triple, as for default_python_distribution(). Defaults to the
        build's target.
      python_version: "3.8", "3.9" or "3.10", as for default_python_distribution(). Defaults
        to PyOxidizer's default (3.10).

    Returns:
      A PythonDistribution.
    """
    _check_keywords("pyoxidizer_ssl_distribution", kwargs, ["vars", "flavor", "build_target", "python_version"])
    _expect("pyoxidizer_ssl_distribution", "vars", vars, "dict", "pass vars=VARS")
    if flavor not in PYOXIDIZER_SSL_FLAVORS:
        fail("pyoxidizer_ssl_distribution: invalid flavor '{}'; must be one of {}; pass the flavor default_python_distribution() takes".format(flavor, PYOXIDIZER_SSL_FLAVORS))
    for arg, value in [("build_target", build_target), ("python_version", python_version)]:
        _expect("pyoxidizer_ssl_distribution", arg, value, "string", "pass a string, as to default_python_distribution()")
    path = _var(vars, "PYOXIDIZER_SSL_DISTRIBUTION", None)
    if path == None:
        return default_python_distribution(
            flavor = flavor,
            build_target = build_target or None,
            python_version = python_version or None,
        )
    sha256 = _var(vars, "PYOXIDIZER_SSL_DISTRIBUTION_SHA256", None)
    if sha256 == None:
        fail("pyoxidizer_ssl_distribution: invalid PYOXIDIZER_SSL_DISTRIBUTION_SHA256 None for archive '{}'; pass --var PYOXIDIZER_SSL_DISTRIBUTION_SHA256 <sha256> (pyoxidizer-ssl build does)".format(path))
    return PythonDistribution(sha256 = sha256, local_path = path, flavor = "standalone")

def pyoxidizer_ssl_wrap_config(config, **kwargs):
    """Make the interpreter run install() before the app's own run target.

    The app's run_command, run_module or run_filename is moved into an -X option and replaced by
    a fixed shim that calls install() and then runs it with the same argv, __main__ semantics and
    exit code. With no run target, the shim is followed by the REPL. If the bootstrap cannot be
    imported, the target still runs (stock trust, one line on stderr). multiprocessing's helper
    processes (spawn workers, the resource tracker, the forkserver) are recognised by their exact
    argv and run as such, so multiprocessing_auto_dispatch is turned off: pyembed 0.24's own
    dispatch kills every spawn worker. Call this before dist.to_python_executable(), which copies
    the config; calling it twice changes nothing.

    Args:
      config: the PythonInterpreterConfig of the target.

    Returns:
      The same PythonInterpreterConfig.
    """
    _check_keywords("pyoxidizer_ssl_wrap_config", kwargs, ["config"])
    _expect("pyoxidizer_ssl_wrap_config", "config", config, "PythonInterpreterConfig", "pass dist.make_python_interpreter_config()")
    if config.run_command == PYOXIDIZER_SSL_RUN_COMMAND:
        return config
    options = []
    if config.x_options != None:
        options = list(config.x_options)
    target = None
    for attr in _RUN_ATTRS:
        value = getattr(config, attr)
        if value != None and target == None:
            target = attr
            options.append(_X_PREFIX + attr + "=" + value)
    if target == None:
        config.inspect = True
    options.append(_X_PREFIX + "fallback=" + _FALLBACK_X)
    config.x_options = options
    # pyembed 0.24's own dispatch of spawn workers passes their arguments as one dict and every
    # worker dies (PyOxidizer #603, #698, #748, #633); main() dispatches them, and the resource
    # tracker and forkserver it cannot see, by their exact argv.
    config.multiprocessing_auto_dispatch = False
    config.run_command = PYOXIDIZER_SSL_RUN_COMMAND
    config.run_module = None
    config.run_filename = None
    return config

def pyoxidizer_ssl_add_resources(exe, vars, dist = "", packaging_policy = "", certifi = "", **kwargs):
    """Embed the rendered bootstrap package and certifi in an executable.

    Resources follow the executable's packaging policy (in-memory or filesystem-relative).
    certifi comes from PYOXIDIZER_SSL_CERTIFI_DIR when set (offline), else from pip; with
    certifi = "app" none is added and the app's own certifi is the one the bootstrap reads.
    A policy in set_resource_handling_mode("files") reads packages as plain files, which cannot
    be embedded as modules: pass dist and packaging_policy, and the bootstrap and certifi are
    read classified, with the policy's resources_location and resources_location_fallback.

    Args:
      exe: the PythonExecutable.
      vars: the config file's VARS dict.
      dist: the PythonDistribution exe was made from. Needed only with a "files" policy.
      packaging_policy: the PythonPackagingPolicy exe was made with. Needed only with a
        "files" policy.
      certifi: "embed" or "app" (see PYOXIDIZER_SSL_CERTIFI). Defaults to "embed".

    Returns:
      The same PythonExecutable.
    """
    _check_keywords("pyoxidizer_ssl_add_resources", kwargs, ["exe", "vars", "dist", "packaging_policy", "certifi"])
    macro = "pyoxidizer_ssl_add_resources"
    _expect(macro, "exe", exe, "PythonExecutable", "pass the result of dist.to_python_executable()")
    _expect(macro, "vars", vars, "dict", "pass vars=VARS")
    certifi = _certifi_mode(macro, certifi)
    reader = exe
    if packaging_policy != "":
        _expect(macro, "packaging_policy", packaging_policy, "PythonPackagingPolicy", "pass the policy exe was made with")
        if not packaging_policy.file_scanner_classify_files:
            _expect(macro, "dist", dist, "PythonDistribution", "pass the distribution exe was made from (needed with a \"files\" packaging policy)")
            reader = _classifying_reader(dist, packaging_policy)
    root = _var(vars, "PYOXIDIZER_SSL_DIR", PYOXIDIZER_SSL_DEFAULT_DIR)
    missing = "pyoxidizer_ssl_add_resources: invalid PYOXIDIZER_SSL_DIR '{}'; it holds no rendered pyoxidizer_ssl_bootstrap; run `pyoxidizer-ssl render --out {}` first, or build with `pyoxidizer-ssl build`".format(root, root)

    # glob() can only check an absolute directory (it needs the full prefix to strip); the
    # default relative one is where this file itself was load()ed from, so it exists.
    if root.startswith("/") and not glob(include = [root + "/pyoxidizer_ssl_bootstrap/__init__.py"], strip_prefix = root + "/").paths():
        fail(missing)
    resources = reader.read_package_root(path = root, packages = ["pyoxidizer_ssl_bootstrap"])
    if len(resources) == 0:
        # A "files" policy (set_resource_handling_mode("files")) reads a package as plain files,
        # which read_package_root() filters out: the directory is fine, the policy is not.
        fail(missing + "; or, if the packaging policy is set_resource_handling_mode(\"files\"), pass dist and packaging_policy")
    _add_bytecode_only(exe, resources, [])
    if certifi == "app":
        return exe
    certifi_dir = _var(vars, "PYOXIDIZER_SSL_CERTIFI_DIR", None)
    if certifi_dir == None:
        certifi_resources = reader.pip_install(["certifi"])
    else:
        certifi_resources = reader.read_package_root(path = certifi_dir, packages = ["certifi"])
    _add_bytecode_only(exe, certifi_resources, _CERTIFI_SKIP)
    return exe

def _certifi_mode(macro, certifi):
    if certifi == "":
        return "embed"
    if certifi not in PYOXIDIZER_SSL_CERTIFI:
        fail("{}: invalid certifi '{}'; must be one of {}; pass certifi = \"app\" when the app adds its own certifi, else leave it out".format(macro, certifi, PYOXIDIZER_SSL_CERTIFI))
    return certifi

def _classifying_reader(dist, policy):
    # An executable that is never built, only used to read packages as classified resources
    # (modules, package data, dist-info) where the target's policy emits plain files. Those
    # resources carry this policy's placement, so it gets the target's locations.
    classify = dist.make_python_packaging_policy()
    classify.resources_location = policy.resources_location
    if policy.resources_location_fallback != None:
        classify.resources_location_fallback = policy.resources_location_fallback
    return dist.to_python_executable(name = "pyoxidizer-ssl-reader", packaging_policy = classify)

def _add_bytecode_only(exe, resources, skip):
    # Add the bootstrap's or certifi's resources, modules as bytecode only where that is safe.
    #
    # In memory, oxidized_importer runs bytecode alone: the bootstrap never raises into the app
    # and certifi's code only locates its bundle, so a source line would hardly ever be shown;
    # leaving the source out keeps ~50 KB out of the binary. On the filesystem (a resource whose
    # add_location is filesystem-relative, from the policy's resources_location or a resource
    # callback) PyOxidizer writes bytecode only as lib/<pkg>/__pycache__/<mod>.cpython-3X.pyc,
    # which Python's own path importer ignores without the .py beside it: it would import the
    # directory as an empty namespace package and the shim would die on a missing main().
    # Whether that importer serves lib/ (config.oxidized_importer = False, or
    # exe.packed_resources_load_mode = "none") can be set after this runs, so it cannot be
    # asked here; a module that goes to the filesystem therefore keeps its source, which is
    # right for both importers (oxidized_importer uses the .pyc, Python's own the .py and its
    # .pyc). A resource's location is final when it is read (policy and callbacks apply then),
    # so the choice is made per resource: a mixed placement gets both behaviours.
    #
    # Modules named in `skip` or under one (_CERTIFI_SKIP) stay out. Data files and dist-info
    # (certifi's cacert.pem, METADATA, licence) go in unchanged, wherever placed.
    kept = []
    for resource in resources:
        if type(resource) == "PythonModuleSource":
            if _skipped(resource.name, skip):
                continue
            resource.add_source = _on_filesystem(resource)
        kept.append(resource)
    exe.add_python_resources(kept)

def _skipped(name, skip):
    for prefix in skip:
        if name == prefix or name.startswith(prefix + "."):
            return True
    return False

def _on_filesystem(resource):
    # Whether the resource is placed on the filesystem (beside the executable) when added. A
    # module's source and bytecode can always be held in memory, so an in-memory location with
    # a filesystem fallback stays in memory.
    location = resource.add_location
    return type(location) == "string" and location.startswith("filesystem-relative")

# PyOxidizer 0.24's Starlark evaluates a `None` or `False` parameter default to the module's
# first string constant; "" is a safe "not given" default.
def pyoxidizer_ssl_executable(dist, name, vars, config = "", packaging_policy = "", certifi = "", **kwargs):
    """Create a PythonExecutable whose TLS trust is set up before the app runs.

    The one call most projects need: it wraps the config (pyoxidizer_ssl_wrap_config), creates
    the executable with dist.to_python_executable() and embeds the bootstrap and certifi
    (pyoxidizer_ssl_add_resources).

    Args:
      dist: the PythonDistribution, e.g. from pyoxidizer_ssl_distribution(vars = VARS).
      name: the executable's name.
      vars: the config file's VARS dict.
      config: the PythonInterpreterConfig. Defaults to dist.make_python_interpreter_config().
      packaging_policy: the PythonPackagingPolicy. Defaults to dist.make_python_packaging_policy().
        A set_resource_handling_mode("files") policy works too.
      certifi: "embed" or "app": pass "app" when the app adds its own certifi (its pip_install,
        pinned or sent to lib/), so that its copy is the only one. Defaults to "embed".

    Returns:
      The PythonExecutable, to add the app's own resources to and return from make_exe().
    """
    _check_keywords("pyoxidizer_ssl_executable", kwargs, ["dist", "name", "vars", "config", "packaging_policy", "certifi"])
    _expect("pyoxidizer_ssl_executable", "dist", dist, "PythonDistribution", "pass pyoxidizer_ssl_distribution(vars = VARS)")
    _expect("pyoxidizer_ssl_executable", "name", name, "string", "pass the executable's name")
    _expect("pyoxidizer_ssl_executable", "vars", vars, "dict", "pass vars=VARS")
    _certifi_mode("pyoxidizer_ssl_executable", certifi)
    if config == "":
        config = dist.make_python_interpreter_config()
    if packaging_policy == "":
        packaging_policy = dist.make_python_packaging_policy()
    pyoxidizer_ssl_wrap_config(config)
    exe = dist.to_python_executable(name = name, packaging_policy = packaging_policy, config = config)
    return pyoxidizer_ssl_add_resources(exe, vars, dist = dist, packaging_policy = packaging_policy, certifi = certifi)
