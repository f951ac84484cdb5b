import { useEffect, useState } from "preact/hooks";
import { api, ApiError, Page, Project, Template } from "../api";
import { BASE, navigate, onLink } from "../router";
import { ErrorNote, fieldError, when } from "../ui";

export function ProjectsPage() {
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [templates, setTemplates] = useState<Template[]>([]);
  const [error, setError] = useState<unknown>(null);

  const load = async () => {
    try {
      const page = await api<Page<Project>>("projects/?ordering=-updated_at");
      setProjects(page.results);
    } catch (caught) {
      setError(caught);
    }
  };

  useEffect(() => {
    void load();
    api<Template[]>("projects/templates/")
      .then(setTemplates)
      .catch(() => setTemplates([]));
  }, []);

  return (
    <main class="page">
      <div class="page-head">
        <h1 tabIndex={-1}>Your projects</h1>
      </div>
      <CreateProject templates={templates} />
      <ImportProject />
      <ErrorNote error={error} />
      <section aria-labelledby="list-title">
        <h2 id="list-title" class="visually-hidden">
          Projects
        </h2>
        {projects === null ? (
          <p class="muted" aria-live="polite">
            Loading…
          </p>
        ) : projects.length === 0 ? (
          <p class="empty">No projects yet. Create one above and describe what it should be.</p>
        ) : (
          <ul class="project-grid">
            {projects.map((project) => (
              <ProjectCard key={project.id} project={project} onChange={load} />
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}

function CreateProject({ templates }: { templates: Template[] }) {
  const [name, setName] = useState("");
  const [template, setTemplate] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const project = await api<Project>("projects/", { method: "POST", json: { name, template } });
      navigate(`/projects/${project.id}`);
    } catch (caught) {
      setError(caught as ApiError);
      setBusy(false);
    }
  };

  return (
    <form class="card create" onSubmit={submit} aria-labelledby="create-title">
      <h2 id="create-title">New project</h2>
      <div class="row">
        <label class="grow">
          Name
          <input
            name="name"
            required
            maxLength={100}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            aria-invalid={Boolean(fieldError(error, "name"))}
          />
        </label>
        <label>
          Start from
          <select name="template" value={template} onChange={(e) => setTemplate(e.currentTarget.value)}>
            <option value="">Nothing (blank)</option>
            {templates
              .filter((t) => t.slug !== "blank")
              .map((t) => (
                <option key={t.slug} value={t.slug}>
                  {t.name}
                </option>
              ))}
          </select>
        </label>
        <button class="primary" type="submit" disabled={busy || !name.trim()}>
          Create project
        </button>
      </div>
      {fieldError(error, "name") && <p class="field-error">{fieldError(error, "name")}</p>}
      {error && !fieldError(error, "name") && <ErrorNote error={error} />}
    </form>
  );
}

/** Why an archive was refused, in words a person can act on (the API's own message, and the entry at fault). */
function importProblem(error: ApiError): string {
  if (error.status === 413) return "This archive is too large to import. Remove big files (videos, builds) and try again.";
  const entry = typeof error.details?.entry === "string" ? ` (${error.details.entry})` : "";
  const field = fieldError(error, "file") || fieldError(error, "name");
  return `The archive was not imported: ${field || error.message}${entry}`;
}

function ImportProject() {
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string>("");
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError("");
    const form = new FormData();
    form.append("file", file);
    try {
      const project = await api<Project>("projects/import/", { method: "POST", body: form });
      navigate(`/projects/${project.id}`);
    } catch (caught) {
      setError(caught instanceof ApiError ? importProblem(caught) : "The server cannot be reached.");
      setBusy(false);
    }
  };

  return (
    <form class="card create" onSubmit={submit} aria-labelledby="import-title">
      <h2 id="import-title">Import a zip</h2>
      <div class="row">
        <label class="grow">
          Zip archive
          <input
            type="file"
            accept=".zip,application/zip"
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
            aria-invalid={Boolean(error)}
            aria-describedby={error ? "import-error" : undefined}
          />
        </label>
        <button type="submit" disabled={busy || !file}>
          {busy ? "Importing…" : "Import project"}
        </button>
      </div>
      {error && (
        <p class="error" role="alert" id="import-error">
          {error}
        </p>
      )}
    </form>
  );
}

function ProjectCard({ project, onChange }: { project: Project; onChange: () => Promise<void> }) {
  const [mode, setMode] = useState<"view" | "rename" | "delete">("view");
  const [name, setName] = useState(project.name);
  const [error, setError] = useState<unknown>(null);
  const href = `${BASE}/projects/${project.id}`;

  const rename = async (event: Event) => {
    event.preventDefault();
    try {
      await api(`projects/${project.id}/`, { method: "PATCH", json: { name } });
      setMode("view");
      await onChange();
    } catch (caught) {
      setError(caught);
    }
  };

  const remove = async () => {
    try {
      await api(`projects/${project.id}/`, { method: "DELETE" });
      await onChange();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <li class="card project-card">
      {mode === "rename" ? (
        <form onSubmit={rename} class="row">
          <label class="grow">
            New name
            <input value={name} required maxLength={100} onInput={(e) => setName(e.currentTarget.value)} autoFocus />
          </label>
          <button class="primary" type="submit">
            Save
          </button>
          <button type="button" onClick={() => setMode("view")}>
            Cancel
          </button>
        </form>
      ) : (
        <>
          <h3>
            <a href={href} onClick={(e) => onLink(e, `/projects/${project.id}`)}>
              {project.name}
            </a>
          </h3>
          <p class="muted small">
            {project.file_count} file{project.file_count === 1 ? "" : "s"} · revision {project.current_revision} ·
            updated {when(project.updated_at)}
          </p>
          {mode === "delete" ? (
            <div class="row confirm" role="group" aria-label={`Delete ${project.name}?`}>
              <span>Delete “{project.name}” and its history?</span>
              <button type="button" class="danger" onClick={remove} autoFocus>
                Delete
              </button>
              <button type="button" onClick={() => setMode("view")}>
                Keep it
              </button>
            </div>
          ) : (
            <div class="row actions">
              <button type="button" onClick={() => setMode("rename")} aria-label={`Rename ${project.name}`}>
                Rename
              </button>
              <button type="button" onClick={() => setMode("delete")} aria-label={`Delete ${project.name}`}>
                Delete
              </button>
            </div>
          )}
        </>
      )}
      <ErrorNote error={error} />
    </li>
  );
}
