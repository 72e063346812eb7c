import { api, lastId, type Project } from '../api';
import { ErrorBox, Loading, useApi } from '../ui';

export function ProjectsPage() {
  const r = useApi(() => api<{ projects: Project[] }>('/v1/projects?pageSize=1000'), []);
  return (
    <main id="main" tabIndex={-1}>
      <h1>Projects</h1>
      {r.loading && !r.data && <Loading />}
      <ErrorBox error={r.error} />
      {r.data && (r.data.projects.length === 0 ? <p>No project you can see yet.</p> : (
        <ul class="cards">
          {r.data.projects.map((p) => (
            <li class="card">
              <h2><a href={`#/projects/${lastId(p.name)}`}>{p.title}</a></h2>
              <p class="muted"><code>{p.name}</code></p>
              <p class="actions">
                <a href={`#/projects/${lastId(p.name)}`}>Issues</a>
                <a href={`#/projects/${lastId(p.name)}/issues/new`}>New issue</a>
                <a href={`#/projects/${lastId(p.name)}/sql`}>SQL editor</a>
              </p>
            </li>
          ))}
        </ul>
      ))}
    </main>
  );
}
