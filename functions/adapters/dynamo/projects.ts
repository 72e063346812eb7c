import { AlreadyExistsError } from '../../../domain/common/errors.js';
import { projectName } from '../../../domain/common/names.js';
import type { Project, ProjectRepo } from '../../../domain/inventory/projects.js';
import { keys } from './keys.js';
import { fromItem } from './item.js';
import type { DynamoStore } from './store.js';

export class DynamoProjectRepo implements ProjectRepo {
  constructor(private readonly store: DynamoStore) {}

  get = (id: string): Promise<Project | undefined> => this.store.get<Project>(keys.project(id));

  async listAll(): Promise<Project[]> {
    const items = await this.store.queryAll(keys.projectsPartition, keys.projectPrefix);
    return items.map((i) => fromItem<Project>(i)!);
  }

  async create(project: Omit<Project, 'version'>): Promise<Project> {
    const created: Project = { ...project, version: 1 };
    if (!(await this.store.putIfAbsent('Project', keys.project(project.id), created))) throw new AlreadyExistsError(projectName(project.id));
    return created;
  }

  update = (next: Project, expectedVersion: number): Promise<Project> =>
    this.store.putVersioned('Project', keys.project(next.id), next, expectedVersion, projectName(next.id));
}
