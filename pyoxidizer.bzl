"""pyoxidizer-ssl: make a PyOxidizer executable verify TLS correctly on every host.

`pyoxidizer-ssl render` (or `build`) writes this file and the rendered bootstrap package into
build/pyoxidizer-ssl/ of the project. Load it from the project directory - PyOxidizer resolves
load() paths against the working directory, not against the config file:

    load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", "pyoxidizer_ssl_executable")

then create the executable with pyoxidizer_ssl_executable() instead of dist.to_python_executable().
A target that does not call these macros is left exactly as it was.

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
# into code here.
PYOXIDIZER_SSL_RUN_COMMAND = "__import__('pyoxidizer_ssl_bootstrap').main()"

_X_PREFIX = "pyoxidizer_ssl."
_RUN_ATTRS = ["run_command", "run_module", "run_filename"]

def _expect(macro, arg, value, expected, fix):
    if type(value) != expected:
        fail("{}: invalid {} of type {}; must be a {}; {}".format(macro, arg, type(value), expected, fix))

def _var(vars, key, default):
    value = vars.get(key)
    if value == None or value == "":
        return default
    return value

def pyoxidizer_ssl_distribution(vars):
    """Return the Python distribution to build with.

    With PYOXIDIZER_SSL_DISTRIBUTION set (as `pyoxidizer-ssl build --distribution` does), that
    local archive is used and no download happens; otherwise PyOxidizer's default distribution.

    Args:
      vars: the config file's VARS dict.

    Returns:
      A PythonDistribution.
    """
    _expect("pyoxidizer_ssl_distribution", "vars", vars, "dict", "pass vars=VARS")
    path = _var(vars, "PYOXIDIZER_SSL_DISTRIBUTION", None)
    if path == None:
        return default_python_distribution()
    sha256 = _var(vars, "PYOXIDIZER_SSL_DISTRIBUTION_SHA256", None)
    if sha256 == None:
        fail("pyoxidizer_ssl_distribution: invalid PYOXIDIZER_SSL_DISTRIBUTION_SHA256 None for archive '{}'; pass --var PYOXIDIZER_SSL_DISTRIBUTION_SHA256 <sha256> (pyoxidizer-ssl build does)".format(path))
    return PythonDistribution(sha256 = sha256, local_path = path, flavor = "standalone")

def pyoxidizer_ssl_wrap_config(config):
    """Make the interpreter run install() before the app's own run target.

    The app's run_command, run_module or run_filename is moved into an -X option and replaced by
    a fixed shim that calls install() and then runs it with the same argv, __main__ semantics and
    exit code. With no run target, the shim is followed by the REPL. Call this before
    dist.to_python_executable(), which copies the config; calling it twice changes nothing.

    Args:
      config: the PythonInterpreterConfig of the target.

    Returns:
      The same PythonInterpreterConfig.
    """
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
    config.x_options = options
    config.run_command = PYOXIDIZER_SSL_RUN_COMMAND
    config.run_module = None
    config.run_filename = None
    return config

def pyoxidizer_ssl_add_resources(exe, vars):
    """Embed the rendered bootstrap package and certifi in an executable.

    Resources follow the executable's packaging policy (in-memory or filesystem-relative).
    certifi comes from PYOXIDIZER_SSL_CERTIFI_DIR when set (offline), else from pip.

    Args:
      exe: the PythonExecutable.
      vars: the config file's VARS dict.

    Returns:
      The same PythonExecutable.
    """
    _expect("pyoxidizer_ssl_add_resources", "exe", exe, "PythonExecutable", "pass the result of dist.to_python_executable()")
    _expect("pyoxidizer_ssl_add_resources", "vars", vars, "dict", "pass vars=VARS")
    root = _var(vars, "PYOXIDIZER_SSL_DIR", PYOXIDIZER_SSL_DEFAULT_DIR)
    missing = "pyoxidizer_ssl_add_resources: invalid PYOXIDIZER_SSL_DIR '{}'; it holds no rendered pyoxidizer_ssl_bootstrap; run `pyoxidizer-ssl render --out {}` first, or build with `pyoxidizer-ssl build`".format(root, root)

    # glob() can only check an absolute directory (it needs the full prefix to strip); the
    # default relative one is where this file itself was load()ed from, so it exists.
    if root.startswith("/") and not glob(include = [root + "/pyoxidizer_ssl_bootstrap/__init__.py"], strip_prefix = root + "/").paths():
        fail(missing)
    resources = exe.read_package_root(path = root, packages = ["pyoxidizer_ssl_bootstrap"])
    if len(resources) == 0:
        fail(missing)
    _add_bytecode_only(exe, resources, "")
    certifi_dir = _var(vars, "PYOXIDIZER_SSL_CERTIFI_DIR", None)
    if certifi_dir == None:
        certifi = exe.pip_install(["certifi"])
    else:
        certifi = exe.read_package_root(path = certifi_dir, packages = ["certifi"])
    _add_bytecode_only(exe, certifi, "certifi.tests")
    return exe

def _add_bytecode_only(exe, resources, skip):
    # Modules go in as bytecode only: the bootstrap never raises into the app and certifi's
    # code only locates its bundle, so a source line would hardly ever be shown; that keeps
    # ~50 KB of source out of the binary. Modules named `skip` or under it (certifi's own test
    # suite) stay out. Data files and dist-info (certifi's METADATA, licence) go in unchanged.
    kept = []
    for resource in resources:
        if type(resource) == "PythonModuleSource":
            if skip and (resource.name == skip or resource.name.startswith(skip + ".")):
                continue
            resource.add_source = False
        kept.append(resource)
    exe.add_python_resources(kept)

# PyOxidizer 0.24's Starlark evaluates a `None` or `False` parameter default to the module's
# first string constant; "" is a safe "not given" default.
def pyoxidizer_ssl_executable(dist, name, vars, config = "", packaging_policy = ""):
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

    Returns:
      The PythonExecutable, to add the app's own resources to and return from make_exe().
    """
    _expect("pyoxidizer_ssl_executable", "dist", dist, "PythonDistribution", "pass pyoxidizer_ssl_distribution(vars = VARS)")
    _expect("pyoxidizer_ssl_executable", "name", name, "string", "pass the executable's name")
    _expect("pyoxidizer_ssl_executable", "vars", vars, "dict", "pass vars=VARS")
    if config == "":
        config = dist.make_python_interpreter_config()
    if packaging_policy == "":
        packaging_policy = dist.make_python_packaging_policy()
    pyoxidizer_ssl_wrap_config(config)
    exe = dist.to_python_executable(name = name, packaging_policy = packaging_policy, config = config)
    return pyoxidizer_ssl_add_resources(exe, vars)
