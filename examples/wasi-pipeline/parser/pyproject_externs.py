"""The parsing side of the pipeline: a wrapper over tomli in wasmtool's calling convention
(a record crosses as a dict). wasmtool derives the component's WIT from its surface."""

import tomli


def pyproject_project_info(text):
    doc = tomli.loads(text)
    project = doc.get("project")
    if not isinstance(project, dict):
        raise KeyError("no [project] table")
    return {
        "name": str(project.get("name", "")),
        "version": str(project.get("version", "")),
        "dependencies": [str(d) for d in project.get("dependencies", [])],
        "requires_python": project.get("requires-python"),
    }
