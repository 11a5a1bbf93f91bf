// Create and train: the training form with its label check, the job list with live
// curves, and the trained models side by side.
import { useState } from 'react';
import type { PageMeta } from '../App';
import { PageHeader } from '../ui';
import './model/model.css';
import { ModelComparison } from './model/model-comparison';
import { LoadErrors, useDatasets, useUseCases } from './model/resources';
import { TrainingForm } from './model/training-form';
import { TrainingJobDetail, TrainingJobList } from './model/training-jobs';

export const meta: PageMeta = { path: '/train', title: 'Create and train', order: 40, roles: ['radiologist'] };

export default function TrainPage() {
  const useCases = useUseCases();
  const datasets = useDatasets();
  const [selectedJob, setSelectedJob] = useState('');
  const [refreshKey, setRefreshKey] = useState(0);
  const refresh = () => setRefreshKey((value) => value + 1);

  return (
    <>
      <PageHeader
        title="Create and train"
        description="Train a classifier on your labelled images, follow its curves while it trains, and compare the models it produces."
      />
      <LoadErrors errors={[useCases.error, datasets.error]} />
      <TrainingForm
        useCases={useCases.data}
        datasets={datasets.data}
        onCreated={(job) => {
          setSelectedJob(job.name);
          refresh();
        }}
      />
      <TrainingJobList refreshKey={refreshKey} selected={selectedJob} onSelect={setSelectedJob} />
      {selectedJob ? <TrainingJobDetail key={selectedJob} name={selectedJob} onFinished={refresh} /> : null}
      <ModelComparison refreshKey={refreshKey} useCases={useCases.data} />
    </>
  );
}
