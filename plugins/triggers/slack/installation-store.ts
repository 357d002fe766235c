// Bolt's InstallationStore backed by the trigger's own MongoDB collection. One document per
// team (or Enterprise Grid org), looked up by _id; the installation is kept as JSON text because
// FerretDB refuses keys containing "." and Slack's payloads may carry such keys.
import type { Collection } from 'mongodb';
import type { Installation, InstallationQuery, InstallationStore } from '@slack/bolt';

interface InstallationDoc {
  _id: string;
  teamId?: string;
  json: string;
  updatedAt: Date;
}

const keyOf = (enterpriseId: string | undefined, teamId: string | undefined, isEnterpriseInstall: boolean | undefined) =>
  isEnterpriseInstall && enterpriseId ? `enterprise:${enterpriseId}` : `team:${teamId}`;

export class MongoInstallationStore implements InstallationStore {
  constructor(private readonly collection: Collection) {}

  private get docs(): Collection<InstallationDoc> {
    return this.collection as unknown as Collection<InstallationDoc>;
  }

  async storeInstallation(installation: Installation): Promise<void> {
    const _id = keyOf(installation.enterprise?.id, installation.team?.id, installation.isEnterpriseInstall);
    await this.docs.replaceOne({ _id }, { teamId: installation.team?.id, json: JSON.stringify(installation), updatedAt: new Date() }, { upsert: true });
  }

  async fetchInstallation(query: InstallationQuery<boolean>): Promise<Installation> {
    const doc = await this.docs.findOne({ _id: keyOf(query.enterpriseId, query.teamId, query.isEnterpriseInstall) });
    if (!doc) throw new Error(`enrichbot is not installed in Slack team ${query.teamId ?? query.enterpriseId}: install it from /slack/install`);
    return JSON.parse(doc.json) as Installation;
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    await this.docs.deleteOne({ _id: keyOf(query.enterpriseId, query.teamId, query.isEnterpriseInstall) });
  }
}
